pub mod feedback;
