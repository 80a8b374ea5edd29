//! Wire codec (placeholder).
