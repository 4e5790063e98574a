//! mail-ingest (docs/product.md §5): customer messages from e-mail (an MTA's submission, IMAP
//! fetching), the help center and external chat channels, each stored raw first, then decoded,
//! classified and handed to the ticket service; replies sent back by SMTP.

pub mod decode;
pub mod screen;
