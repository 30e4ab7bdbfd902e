// The same hardening tests as harden.test.ts, on PostgreSQL (a database of its own on VIGIE_TEST_PG, dropped afterwards).
process.env.VIGIE_SERVE_TEST_ENGINE = "postgres";
await import("./harden.test.js");
