//! Kiln app.
