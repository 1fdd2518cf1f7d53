pub mod contact;
pub mod feedback;
pub mod reference;
