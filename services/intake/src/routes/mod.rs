pub mod calls;
pub mod customers;
pub mod email;
pub mod feedback;
