//! Keyword tables and handlers for LVS: SSL, virtual_server_group, virtual_server, real_server and every checker (check/check_parser.c, check/check_*.c).

use crate::Validation;
use crate::parser::Keyword;

/// Scratch state kept while this domain's blocks are open.
#[derive(Debug, Default)]
pub struct State {}

/// Root-level keywords of this domain.
pub static ROOT: &[Keyword] = &[];

/// Checks and corrections after the whole file is read (keepalived's
/// complete/validate functions for this domain).
pub fn validate(_v: &mut Validation<'_>) {}
