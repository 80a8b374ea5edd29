//! Classic BPF socket filters for the VRRP receive sockets: drop in the
//! kernel what `vrrp::packet` would reject anyway, so that a flood of
//! foreign traffic on protocol 112 does not wake the daemon.
//!
//! The programs only reject what RFC 5798 §7.1 / RFC 3768 §7.1 make invalid
//! whatever the configuration: a TTL / hop limit other than 255 on a
//! multicast socket, and a version/type byte other than v2/v3 advertisement.
//! Anything finer (VRID, addresses, authentication) stays in user space
//! where it is counted. The daemon may leave the filter off to keep
//! keepalived's exact per-reason counters.

/// One classic BPF instruction (`struct sock_filter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insn {
    /// Opcode.
    pub code: u16,
    /// Jump offset if true.
    pub jt: u8,
    /// Jump offset if false.
    pub jf: u8,
    /// Constant.
    pub k: u32,
}

// Opcode pieces from linux/filter.h / linux/bpf_common.h.
const BPF_LD: u16 = 0x00;
const BPF_LDX: u16 = 0x01;
const BPF_JMP: u16 = 0x05;
const BPF_RET: u16 = 0x06;
const BPF_B: u16 = 0x10;
const BPF_ABS: u16 = 0x20;
const BPF_IND: u16 = 0x40;
const BPF_MSH: u16 = 0xa0;
const BPF_JEQ: u16 = 0x10;
const BPF_K: u16 = 0x00;

/// `SKF_NET_OFF`: negative offsets from here address the network header,
/// whatever the socket's data offset (IPv6 raw sockets start at the payload).
const SKF_NET_OFF: i32 = -0x0010_0000;

/// Returned by the filter to keep the whole packet.
pub const ACCEPT: u32 = 0xffff_ffff;
/// Returned by the filter to drop the packet.
pub const DROP: u32 = 0;

/// VRRP version 2 or 3, type 1 (advertisement): RFC 3768 §5.3.1-2, RFC 5798 §5.2.1-2.
const V2_ADVERT: u32 = 0x21;
const V3_ADVERT: u32 = 0x31;

const fn stmt(code: u16, k: u32) -> Insn {
    Insn {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

const fn jump(code: u16, k: u32, jt: u8, jf: u8) -> Insn {
    Insn { code, jt, jf, k }
}

/// What the filter checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilterSpec {
    /// Require TTL / hop limit 255 (multicast sockets; RFC 5798 §7.1 item 3).
    pub require_ttl_255: bool,
    /// Require a VRRP advertisement version/type byte first in the payload
    /// (off for AH sockets, where the AH header comes first).
    pub check_vrrp_header: bool,
}

/// The program for an IPv4 raw socket, which sees the packet from the IP
/// header on.
pub fn ipv4_program(spec: FilterSpec) -> Vec<Insn> {
    let mut program = Vec::with_capacity(8);
    if spec.require_ttl_255 {
        // ldb [8]: TTL
        program.push(stmt(BPF_LD | BPF_B | BPF_ABS, 8));
        program.push(jump(BPF_JMP | BPF_JEQ | BPF_K, 255, 0, JUMP_TO_DROP));
    }
    if spec.check_vrrp_header {
        // ldxb 4*([0]&0xf): IP header length; then ldb [x+0]: version/type
        program.push(stmt(BPF_LDX | BPF_B | BPF_MSH, 0));
        program.push(stmt(BPF_LD | BPF_B | BPF_IND, 0));
        program.push(jump(
            BPF_JMP | BPF_JEQ | BPF_K,
            V3_ADVERT,
            JUMP_TO_ACCEPT,
            0,
        ));
        program.push(jump(
            BPF_JMP | BPF_JEQ | BPF_K,
            V2_ADVERT,
            JUMP_TO_ACCEPT,
            JUMP_TO_DROP,
        ));
    }
    finish(program)
}

/// The program for an IPv6 raw socket, which sees the packet from the
/// payload on; the hop limit is read through `SKF_NET_OFF`.
pub fn ipv6_program(spec: FilterSpec) -> Vec<Insn> {
    let mut program = Vec::with_capacity(8);
    if spec.require_ttl_255 {
        // ldb [net + 7]: hop limit
        program.push(stmt(
            BPF_LD | BPF_B | BPF_ABS,
            SKF_NET_OFF.wrapping_add(7) as u32,
        ));
        program.push(jump(BPF_JMP | BPF_JEQ | BPF_K, 255, 0, JUMP_TO_DROP));
    }
    if spec.check_vrrp_header {
        program.push(stmt(BPF_LD | BPF_B | BPF_ABS, 0));
        program.push(jump(
            BPF_JMP | BPF_JEQ | BPF_K,
            V3_ADVERT,
            JUMP_TO_ACCEPT,
            0,
        ));
        program.push(jump(
            BPF_JMP | BPF_JEQ | BPF_K,
            V2_ADVERT,
            JUMP_TO_ACCEPT,
            JUMP_TO_DROP,
        ));
    }
    finish(program)
}

// Placeholders resolved by `finish` once the program length is known.
const JUMP_TO_ACCEPT: u8 = 0xfe;
const JUMP_TO_DROP: u8 = 0xff;

/// Appends `ret ACCEPT; ret DROP` and resolves the placeholder jumps.
fn finish(mut program: Vec<Insn>) -> Vec<Insn> {
    let accept_at = program.len();
    let drop_at = accept_at + 1;
    for (at, insn) in program.iter_mut().enumerate() {
        for target in [&mut insn.jt, &mut insn.jf] {
            let resolved = match *target {
                JUMP_TO_ACCEPT => accept_at,
                JUMP_TO_DROP => drop_at,
                _ => continue,
            };
            // Programs here are < 16 instructions, far below u8 range.
            *target = u8::try_from(resolved - at - 1).unwrap_or(0);
        }
    }
    program.push(stmt(BPF_RET | BPF_K, ACCEPT));
    program.push(stmt(BPF_RET | BPF_K, DROP));
    program
}

/// A program that drops everything: for send-only sockets, so that nothing
/// is ever queued to them (keepalived: `if_setsockopt_no_receive()`).
pub fn drop_all() -> Vec<Insn> {
    vec![stmt(BPF_RET | BPF_K, DROP)]
}

/// Converts to what `socket2::Socket::attach_filter` takes.
pub fn to_socket2(program: &[Insn]) -> Vec<socket2::SockFilter> {
    program
        .iter()
        .map(|i| socket2::SockFilter::new(i.code, i.jt, i.jf, i.k))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny interpreter for the opcodes above: `packet` is what the socket
    /// sees at offset 0, `network` what SKF_NET_OFF addresses.
    fn run(program: &[Insn], packet: &[u8], network: &[u8]) -> u32 {
        let (mut a, mut x, mut pc) = (0u32, 0u32, 0usize);
        let load = |off: u32| -> Option<u32> {
            let signed = off as i32;
            if signed < 0 {
                let rel = usize::try_from(signed.checked_sub(SKF_NET_OFF)?).ok()?;
                network.get(rel).map(|b| u32::from(*b))
            } else {
                packet.get(off as usize).map(|b| u32::from(*b))
            }
        };
        loop {
            let Some(insn) = program.get(pc) else {
                return DROP;
            };
            pc += 1;
            match insn.code {
                c if c == BPF_LD | BPF_B | BPF_ABS => match load(insn.k) {
                    Some(v) => a = v,
                    None => return DROP,
                },
                c if c == BPF_LD | BPF_B | BPF_IND => match load(x.wrapping_add(insn.k)) {
                    Some(v) => a = v,
                    None => return DROP,
                },
                c if c == BPF_LDX | BPF_B | BPF_MSH => match load(insn.k) {
                    Some(v) => x = 4 * (v & 0xf),
                    None => return DROP,
                },
                c if c == BPF_JMP | BPF_JEQ | BPF_K => {
                    pc += usize::from(if a == insn.k { insn.jt } else { insn.jf });
                }
                c if c == BPF_RET | BPF_K => return insn.k,
                other => panic!("opcode {other:#x} not modelled"),
            }
        }
    }

    fn ipv4(ttl: u8, ihl_words: u8, vrrp_first: u8) -> Vec<u8> {
        let mut p = vec![0u8; usize::from(ihl_words) * 4 + 8];
        p[0] = 0x40 | ihl_words;
        p[8] = ttl;
        p[9] = 112;
        p[usize::from(ihl_words) * 4] = vrrp_first;
        p
    }

    const FULL: FilterSpec = FilterSpec {
        require_ttl_255: true,
        check_vrrp_header: true,
    };

    #[test]
    fn ipv4_accepts_v2_and_v3_adverts_with_ttl_255() {
        let program = ipv4_program(FULL);
        assert_eq!(run(&program, &ipv4(255, 5, 0x21), &[]), ACCEPT);
        assert_eq!(run(&program, &ipv4(255, 5, 0x31), &[]), ACCEPT);
        // IP options move the VRRP header; the filter follows the IHL.
        assert_eq!(run(&program, &ipv4(255, 6, 0x31), &[]), ACCEPT);
    }

    #[test]
    fn ipv4_drops_bad_ttl_version_and_type() {
        let program = ipv4_program(FULL);
        assert_eq!(run(&program, &ipv4(254, 5, 0x31), &[]), DROP);
        assert_eq!(run(&program, &ipv4(1, 5, 0x21), &[]), DROP);
        assert_eq!(run(&program, &ipv4(255, 5, 0x41), &[]), DROP);
        assert_eq!(run(&program, &ipv4(255, 5, 0x32), &[]), DROP);
        assert_eq!(run(&program, &ipv4(255, 5, 0x11), &[]), DROP);
        // Truncated before the VRRP header.
        assert_eq!(run(&program, &ipv4(255, 5, 0x31)[..20], &[]), DROP);
    }

    #[test]
    fn ipv4_unicast_keeps_any_ttl() {
        let program = ipv4_program(FilterSpec {
            require_ttl_255: false,
            check_vrrp_header: true,
        });
        assert_eq!(run(&program, &ipv4(64, 5, 0x31), &[]), ACCEPT);
        assert_eq!(run(&program, &ipv4(64, 5, 0x30), &[]), DROP);
    }

    #[test]
    fn ah_socket_only_checks_ttl() {
        let program = ipv4_program(FilterSpec {
            require_ttl_255: true,
            check_vrrp_header: false,
        });
        assert_eq!(run(&program, &ipv4(255, 5, 0x99), &[]), ACCEPT);
        assert_eq!(run(&program, &ipv4(200, 5, 0x21), &[]), DROP);
    }

    #[test]
    fn ipv6_reads_hop_limit_from_network_header() {
        let program = ipv6_program(FULL);
        let mut ip6 = [0u8; 40];
        ip6[0] = 0x60;
        ip6[7] = 255;
        assert_eq!(run(&program, &[0x31, 1, 100, 1], &ip6), ACCEPT);
        assert_eq!(run(&program, &[0x21, 1, 100, 1], &ip6), ACCEPT);
        assert_eq!(run(&program, &[0x33, 1, 100, 1], &ip6), DROP);
        ip6[7] = 64;
        assert_eq!(run(&program, &[0x31, 1, 100, 1], &ip6), DROP);
    }
}
