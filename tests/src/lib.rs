//! End-to-end test suites live in tests/tests/.
