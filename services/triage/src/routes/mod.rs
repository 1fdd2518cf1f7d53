pub mod actions;
pub mod cases;
