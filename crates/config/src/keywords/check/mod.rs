//! Keyword tables and handlers for LVS: SSL, virtual_server_group, virtual_server,
//! real_server and every checker (check/check_parser.c, check/check_*.c).
//!
//! Handlers follow keepalived's "last element" pattern: `virtual_server` appends a
//! [`VirtualServer`](crate::model::lvs::VirtualServer), and the keywords inside its block
//! modify the last one; likewise for real servers and checkers.
//!
//! Diagnostics are reported at the line keepalived reports them (the keyword's line for
//! handlers, the closing `}` line for block-end checks) and with keepalived's level.
//! Checks keepalived does after reading the whole file (check_data.c
//! `validate_check_config()`, ipwrapper.c `link_vsg_to_vs()`) are in [`validate`] and
//! carry no line, as keepalived prints them without one.

pub(crate) mod addr;
mod checkers;
mod validate;
mod vs;

pub use validate::validate;

use crate::parser::Keyword;

/// Scratch state kept while this domain's blocks are open.
#[derive(Debug, Default)]
pub struct State {
    /// The checker being parsed was removed (keepalived sets its `new_*_checker` to
    /// NULL): the rest of its block changes nothing.
    pub(crate) checker_dropped: bool,
    /// Inside an SMTP_CHECK `host { }` block: connection keywords go to this entry.
    pub(crate) smtp_host: Option<crate::model::lvs::CheckerCommon>,
    /// keepalived cleared the checker's destination (an invalid or mismatched
    /// `connect_ip` leaves it with no address family): no link-local check applies.
    pub(crate) destination_cleared: bool,
    /// The same for the SMTP `host { }` entry being parsed.
    pub(crate) host_destination_cleared: bool,
    /// MISC_CHECK `misc_path` read so far.
    pub(crate) misc_script: Option<crate::script::Script>,
    /// MISC_CHECK `user USER [GROUP]` and where it was written.
    pub(crate) misc_user: Option<(String, Option<String>, crate::span::Span)>,
    /// DNS_CHECK `name` was given (a second one is an error).
    pub(crate) dns_name_set: bool,
    /// bfd_instance being parsed, in each process' view.
    pub(crate) bfd: crate::keywords::bfd::Scratch,
}

/// Root-level keywords of this domain.
pub static ROOT: &[Keyword] = &[
    Keyword::block("SSL", Some(vs::ssl_handler), vs::SSL, None),
    Keyword::new("virtual_server_group", vs::vsg_handler),
    Keyword::block(
        "virtual_server",
        Some(vs::vs_handler),
        vs::VIRTUAL_SERVER,
        Some(vs::vs_end_handler),
    ),
];
