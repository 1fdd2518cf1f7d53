pub mod calls;
pub mod feedback;
