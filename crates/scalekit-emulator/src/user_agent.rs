//! Parsing the registering browser's User-Agent (placeholder).
