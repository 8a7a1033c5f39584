//! Small internal helpers.
pub(crate) mod slab;
