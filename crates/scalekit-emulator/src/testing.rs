//! Helpers for tests and development (placeholder until the hosted pages land).
