//! State machine (placeholder).
