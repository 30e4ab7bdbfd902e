// The same remediation and notice API tests as remediation.test.ts, on PostgreSQL.
process.env.VIGIE_SERVE_TEST_ENGINE = "postgres";
await import("./remediation.test.js");
