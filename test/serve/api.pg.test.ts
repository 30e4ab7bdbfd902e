// The same api tests as api.test.ts, on PostgreSQL (a database of its own on VIGIE_TEST_PG, dropped afterwards).
process.env.VIGIE_SERVE_TEST_ENGINE = "postgres";
await import("./api.test.js");
