//! VRRPv2 authentication (RFC 2338 §5.3.6 / §10; RFC 3768 kept only the field):
//! none, simple text password (PASS) and IPsec AH with HMAC-MD5-96, as keepalived 2.2.7
//! builds and checks them (`vrrp_build_ipsecah()`, `vrrp_update_pkt()`,
//! `vrrp_in_chk_ipsecah()`, `vrrp_check_packet()`).

use hmac::{Hmac, Mac};
use md5::Md5;

use super::header::{AH_HEADER_LEN, AH_ICV_LEN, VRRP_AUTH_DATA_LEN};

/// Auth type byte values in the VRRPv2 header (RFC 2338 §5.3.6).
pub const AUTH_TYPE_NONE: u8 = 0;
pub const AUTH_TYPE_PASS: u8 = 1;
pub const AUTH_TYPE_AH: u8 = 2;

/// Configured authentication of an instance.
///
/// The key is keepalived's `auth_data[8]`: `auth_pass` truncated to 8 bytes and
/// zero-padded (keepalived: `vrrp_auth_pass_handler()`); see [`Auth::key_from_pass`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Auth {
    #[default]
    None,
    /// Simple text password, carried in clear in the 8 authentication-data bytes.
    Pass([u8; VRRP_AUTH_DATA_LEN]),
    /// IPsec AH (IP protocol 51) with an HMAC-MD5-96 ICV keyed with the 8 bytes.
    Ah { key: [u8; VRRP_AUTH_DATA_LEN] },
}

impl Auth {
    /// The auth type byte of the VRRPv2 header.
    pub fn type_code(&self) -> u8 {
        match self {
            Auth::None => AUTH_TYPE_NONE,
            Auth::Pass(_) => AUTH_TYPE_PASS,
            Auth::Ah { .. } => AUTH_TYPE_AH,
        }
    }

    pub fn is_ah(&self) -> bool {
        matches!(self, Auth::Ah { .. })
    }

    /// keepalived's 8-byte `auth_data` from a configured `auth_pass`: the first 8 bytes,
    /// zero-padded (longer passwords are truncated with a warning by the config layer).
    pub fn key_from_pass(pass: &[u8]) -> [u8; VRRP_AUTH_DATA_LEN] {
        let mut key = [0u8; VRRP_AUTH_DATA_LEN];
        for (slot, byte) in key.iter_mut().zip(pass) {
            *slot = *byte;
        }
        key
    }
}

/// Compares without an early exit, so timing does not reveal the matching prefix
/// (keepalived: `memcmp_constant_time()`).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    diff == 0
}

/// HMAC-MD5 (RFC 2104) over the concatenation of `parts`, truncated to 96 bits
/// (RFC 2403). keepalived's own `hmac_md5()` is the plain RFC 2104 construction.
pub fn hmac_md5_96(key: &[u8; VRRP_AUTH_DATA_LEN], parts: &[&[u8]]) -> [u8; AH_ICV_LEN] {
    // An 8-byte key is always a valid HMAC key (any length is).
    let mut mac = match <Hmac<Md5> as Mac>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => return [0; AH_ICV_LEN],
    };
    for part in parts {
        mac.update(part);
    }
    let full = mac.finalize().into_bytes();
    let mut icv = [0u8; AH_ICV_LEN];
    for (slot, byte) in icv.iter_mut().zip(full.iter()) {
        *slot = *byte;
    }
    icv
}

/// The AH ICV as keepalived computes it on send (`vrrp_update_pkt()`) and on receive
/// (`vrrp_in_chk_ipsecah()`): HMAC-MD5-96 over the IPv4 header as on the wire (options
/// included) with TOS, flags/fragment offset, checksum and (unicast only) TTL zeroed,
/// the AH header with a zero ICV, then the VRRP message. The IP id stays in.
/// Works on stack copies: no allocation per advert.
pub(super) fn ah_icv(
    key: &[u8; VRRP_AUTH_DATA_LEN],
    ip_header: &[u8],
    unicast: bool,
    ah_header: &[u8; AH_HEADER_LEN],
    vrrp: &[u8],
) -> [u8; AH_ICV_LEN] {
    // An IPv4 header is at most 15 × 4 bytes.
    let mut ip = [0u8; 60];
    let ip = &mut ip[..ip_header.len().min(60)];
    ip.copy_from_slice(&ip_header[..ip.len()]);
    let ttl = if unicast { Some(8) } else { None };
    for zeroed in [1usize, 6, 7, 10, 11].into_iter().chain(ttl) {
        if let Some(byte) = ip.get_mut(zeroed) {
            *byte = 0;
        }
    }
    let mut ah = *ah_header;
    ah[AH_HEADER_LEN - AH_ICV_LEN..].fill(0);
    hmac_md5_96(key, &[ip, &ah, vrrp])
}

/// keepalived's `ipsecah_counter`: ONE counter per instance, shared by the sequence
/// numbers it sends and the replay check on what it receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AhSequence {
    /// Last sequence number sent, or the highest one accepted.
    pub seq_number: u32,
    /// Set when the counter reached its end on send; cleared on a valid advert.
    pub cycle: bool,
}

impl AhSequence {
    /// Sequence number for the next advert sent (keepalived: `vrrp_update_pkt()`).
    /// Past 0xFFFF_FFFD the counter stops and `cycle` is set; the state machine must
    /// then give up mastership (RFC 2402 §3.3.2: a sequence number must not cycle).
    pub fn next_tx(&mut self) -> u32 {
        if self.seq_number > 0xFFFF_FFFD {
            self.cycle = true;
        } else {
            self.seq_number += 1;
        }
        self.seq_number
    }

    /// Replay check on an authenticated advert: the sequence number must be strictly
    /// greater than the counter, which then takes its value (`vrrp_in_chk_ipsecah()`).
    pub fn accept_rx(&mut self, sequence: u32) -> bool {
        if sequence > self.seq_number {
            self.seq_number = sequence;
            true
        } else {
            false
        }
    }

    /// A master that sees a lower-priority advert takes the sender's sequence number
    /// plus one (keepalived `vrrp_state_master_rx()`; wraps like its `uint32_t`).
    pub fn sync_to_lower_priority(&mut self, their_sequence: u32) {
        self.seq_number = their_sequence.wrapping_add(1);
        self.cycle = false;
    }

    /// The same, right after [`super::validate()`] accepted that advert: the counter
    /// then already holds the sender's sequence number.
    pub fn sync_after_accepted_lower_priority(&mut self) {
        self.sync_to_lower_priority(self.seq_number);
    }

    /// Becoming master after the counter cycled restarts it from 0
    /// (keepalived `vrrp_state_become_master()`).
    pub fn on_become_master(&mut self) {
        if self.cycle {
            self.cycle = false;
            self.seq_number = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_md5_rfc2202_case_2() {
        // RFC 2202 test case 2 uses the 4-byte key "Jefe"; HMAC pads keys with zeros to
        // the block size, so the zero-padded 8-byte form gives the same MAC.
        let key = Auth::key_from_pass(b"Jefe");
        let icv = hmac_md5_96(&key, &[b"what do ya want ", b"for nothing?"]);
        assert_eq!(
            icv,
            [
                0x75, 0x0c, 0x78, 0x3e, 0x6a, 0xb0, 0xb5, 0x03, 0xea, 0xa8, 0x6e, 0x31
            ]
        );
    }

    #[test]
    fn key_is_truncated_and_padded() {
        assert_eq!(Auth::key_from_pass(b"secret"), *b"secret\0\0");
        assert_eq!(Auth::key_from_pass(b"longpassword"), *b"longpass");
    }

    #[test]
    fn sequence_counter_stops_at_the_end() {
        let mut seq = AhSequence {
            seq_number: 0xFFFF_FFFD,
            cycle: false,
        };
        assert_eq!(seq.next_tx(), 0xFFFF_FFFE);
        assert!(!seq.cycle);
        assert_eq!(seq.next_tx(), 0xFFFF_FFFE);
        assert!(seq.cycle);
        seq.on_become_master();
        assert_eq!(seq, AhSequence::default());
    }

    #[test]
    fn master_syncs_past_a_lower_priority_sender() {
        let mut seq = AhSequence {
            seq_number: 3,
            cycle: true,
        };
        assert!(seq.accept_rx(40));
        seq.sync_after_accepted_lower_priority();
        assert_eq!(
            seq,
            AhSequence {
                seq_number: 41,
                cycle: false
            }
        );
        assert_eq!(seq.next_tx(), 42);
    }

    #[test]
    fn replay_is_refused() {
        let mut seq = AhSequence::default();
        assert!(seq.accept_rx(5));
        assert!(!seq.accept_rx(5));
        assert!(!seq.accept_rx(4));
        assert!(seq.accept_rx(6));
    }
}
