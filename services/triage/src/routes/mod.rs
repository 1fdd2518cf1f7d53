pub mod actions;
pub mod capa;
pub mod cases;
pub mod quality;
pub mod revisits;
pub mod rules;
pub mod staff;
pub mod staff_named;
