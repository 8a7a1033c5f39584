//! sonic-rt
