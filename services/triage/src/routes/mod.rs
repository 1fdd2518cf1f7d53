pub mod actions;
pub mod cases;
pub mod staff;
