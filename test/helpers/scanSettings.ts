import type { ScanSettings } from "../../src/pipeline/scan.js";

/** Short timeouts for scans of the loopback emulator. */
export const FAST: ScanSettings = {
  ports: [443, 80],
  concurrency: 64,
  rate: 0,
  activeChecks: true,
  exclude: [],
  hostTimeoutMs: 8000,
  limits: { connectTimeoutMs: 1000, readTimeoutMs: 1000, requestTimeoutMs: 2000, maxHeaderBytes: 32 * 1024, maxBodyBytes: 256 * 1024 },
};
