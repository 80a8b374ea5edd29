//! Keyword tables, one module per domain, as keepalived installs them
//! (global, VRRP, checker, BFD). The root table is the union of each domain's ROOT.

use crate::parser::Keyword;

pub mod bfd;
pub mod check;
pub mod global;
pub mod vrrp;

/// The root-level tables, searched in this order.
pub fn root_tables() -> [&'static [Keyword]; 4] {
    [global::ROOT, vrrp::ROOT, check::ROOT, bfd::ROOT]
}
