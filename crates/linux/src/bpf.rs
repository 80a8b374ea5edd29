//! Classic BPF socket filters for the VRRP receive sockets: drop in the
//! kernel what `vrrp::packet` would reject anyway, so that a flood of
//! foreign traffic on protocol 112 (or 51) does not wake the daemon.
//!
//! The programs reject what RFC 5798 §7.1 / RFC 3768 §7.1 make invalid for
//! every instance on the socket: a TTL / hop limit other than 255 on a
//! multicast socket, a version/type byte that is not an advertisement of a
//! version some instance runs, a VRID no instance on the socket runs, and on
//! AH sockets an AH header that does not carry VRRP. Anything finer
//! (checksum, addresses, authentication) stays in user space where each
//! reason is counted. The kernel keeps no per-socket count of filter drops;
//! `vrrp_socket` counts arrivals on a second, unfiltered socket instead.

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
const BPF_ALU: u16 = 0x04;
const BPF_W: u16 = 0x00;
const BPF_B: u16 = 0x10;
const BPF_LEN: u16 = 0x80;
const BPF_SUB: u16 = 0x10;
const BPF_X: u16 = 0x08;
const BPF_ABS: u16 = 0x20;
const BPF_IND: u16 = 0x40;
const BPF_MSH: u16 = 0xa0;
const BPF_JEQ: u16 = 0x10;
const BPF_JGT: u16 = 0x20;
const BPF_JGE: u16 = 0x30;
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
/// IP protocol of VRRP, as AH's next-header field names it.
const IPPROTO_VRRP: u32 = 112;
/// RFC 2402 AH header with keepalived's 96-bit ICV: VRRP starts 24 bytes in.
const AH_HEADER_LEN: u32 = 24;
/// Jumps are 8-bit: a VRID test longer than this is left to user space.
const MAX_VRID_TESTS: usize = 200;

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
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterSpec {
    /// Require TTL / hop limit 255 (multicast sockets; RFC 5798 §7.1 item 3).
    pub require_ttl_255: bool,
    /// Look at the VRRP header at all (version/type and VRID below).
    pub check_vrrp_header: bool,
    /// The packets are IPsec AH (protocol 51): the AH header must announce
    /// VRRP and the VRRP header follows it (IPv4 only, as keepalived).
    pub behind_ah: bool,
    /// Accept VRRPv2 adverts (some instance on the socket runs version 2).
    pub accept_v2: bool,
    /// Accept VRRPv3 adverts.
    pub accept_v3: bool,
    /// The VRIDs of the instances on the socket; empty accepts any.
    pub vrids: Vec<u8>,
}

impl FilterSpec {
    /// TTL and version/type checks for either version, any VRID: what a
    /// socket needs before it knows its instances.
    pub fn any_advert(require_ttl_255: bool, behind_ah: bool) -> FilterSpec {
        FilterSpec {
            require_ttl_255,
            check_vrrp_header: true,
            behind_ah,
            accept_v2: true,
            accept_v3: !behind_ah,
            vrids: Vec::new(),
        }
    }
}

/// The VRRP-header part shared by both families: `load_at` loads the byte at
/// an offset into the VRRP header (absolute for IPv6, indexed by X for IPv4).
/// The accumulator holds the bytes available from the VRRP (or AH) header on:
/// too few to read the VRID is an explicit drop, so that the inverted program
/// counts it (a load out of bounds would abort both programs uncounted).
fn vrrp_header_checks(spec: &FilterSpec, program: &mut Vec<Insn>, load_at: impl Fn(u32) -> Insn) {
    let base = if spec.behind_ah { AH_HEADER_LEN } else { 0 };
    program.push(jump(BPF_JMP | BPF_JGE | BPF_K, base + 2, 0, JUMP_TO_DROP));
    if spec.behind_ah {
        // AH next header: byte 0 of the AH header.
        program.push(load_at(0));
        program.push(jump(
            BPF_JMP | BPF_JEQ | BPF_K,
            IPPROTO_VRRP,
            0,
            JUMP_TO_DROP,
        ));
    }
    program.push(load_at(base));
    let versions: Vec<u32> = [(spec.accept_v3, V3_ADVERT), (spec.accept_v2, V2_ADVERT)]
        .into_iter()
        .filter_map(|(on, byte)| on.then_some(byte))
        .collect();
    let ranges = vrid_ranges(&spec.vrids);
    let check_vrid = !ranges.is_empty() && ranges.len() * 2 <= MAX_VRID_TESTS;
    let after_version = if check_vrid {
        JUMP_TO_VRID
    } else {
        JUMP_TO_ACCEPT
    };
    for (i, byte) in versions.iter().enumerate() {
        let last = i + 1 == versions.len();
        let jf = if last { JUMP_TO_DROP } else { 0 };
        program.push(jump(BPF_JMP | BPF_JEQ | BPF_K, *byte, after_version, jf));
    }
    if versions.is_empty() {
        program.push(stmt(BPF_RET | BPF_K, DROP));
    }
    if check_vrid {
        let vrid_at = program.len();
        // Resolve the version tests' jumps to here.
        for (at, insn) in program.iter_mut().enumerate() {
            if insn.jt == JUMP_TO_VRID {
                insn.jt = u8::try_from(vrid_at - at - 1).unwrap_or(0);
            }
        }
        program.push(load_at(base + 1));
        for (lo, hi) in ranges {
            if lo == hi {
                program.push(jump(
                    BPF_JMP | BPF_JEQ | BPF_K,
                    u32::from(lo),
                    JUMP_TO_ACCEPT,
                    0,
                ));
            } else {
                // lo <= vrid <= hi: a >= lo, then not a > hi.
                program.push(jump(BPF_JMP | BPF_JGE | BPF_K, u32::from(lo), 0, 1));
                program.push(jump(
                    BPF_JMP | BPF_JGT | BPF_K,
                    u32::from(hi),
                    0,
                    JUMP_TO_ACCEPT,
                ));
            }
        }
        program.push(stmt(BPF_RET | BPF_K, DROP));
    }
}

/// Sorted VRIDs as inclusive ranges (fewer jumps for runs like 1..=50).
fn vrid_ranges(vrids: &[u8]) -> Vec<(u8, u8)> {
    let mut sorted = vrids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut ranges: Vec<(u8, u8)> = Vec::new();
    for vrid in sorted {
        match ranges.last_mut() {
            Some((_, hi)) if hi.checked_add(1) == Some(vrid) => *hi = vrid,
            _ => ranges.push((vrid, vrid)),
        }
    }
    ranges
}

/// The program for an IPv4 raw socket, which sees the packet from the IP
/// header on.
pub fn ipv4_program(spec: &FilterSpec) -> Vec<Insn> {
    let mut program = Vec::with_capacity(16);
    if spec.require_ttl_255 {
        // ldb [8]: TTL
        program.push(stmt(BPF_LD | BPF_B | BPF_ABS, 8));
        program.push(jump(BPF_JMP | BPF_JEQ | BPF_K, 255, 0, JUMP_TO_DROP));
    }
    if spec.check_vrrp_header {
        // ldxb 4*([0]&0xf): IP header length; A = len - X; then ldb [x+k]
        program.push(stmt(BPF_LDX | BPF_B | BPF_MSH, 0));
        program.push(stmt(BPF_LD | BPF_W | BPF_LEN, 0));
        program.push(stmt(BPF_ALU | BPF_SUB | BPF_X, 0));
        vrrp_header_checks(spec, &mut program, |k| stmt(BPF_LD | BPF_B | BPF_IND, k));
    }
    finish(program)
}

/// The program for an IPv6 raw socket, which sees the packet from the
/// payload on; the hop limit is read through `SKF_NET_OFF`.
pub fn ipv6_program(spec: &FilterSpec) -> Vec<Insn> {
    let mut program = Vec::with_capacity(16);
    if spec.require_ttl_255 {
        // ldb [net + 7]: hop limit
        program.push(stmt(
            BPF_LD | BPF_B | BPF_ABS,
            SKF_NET_OFF.wrapping_add(7) as u32,
        ));
        program.push(jump(BPF_JMP | BPF_JEQ | BPF_K, 255, 0, JUMP_TO_DROP));
    }
    if spec.check_vrrp_header {
        program.push(stmt(BPF_LD | BPF_W | BPF_LEN, 0));
        vrrp_header_checks(spec, &mut program, |k| stmt(BPF_LD | BPF_B | BPF_ABS, k));
    }
    finish(program)
}

// Placeholders resolved once the program length is known.
const JUMP_TO_VRID: u8 = 0xfd;
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
            // MAX_VRID_TESTS keeps programs far below the 8-bit jump range.
            *target = u8::try_from(resolved - at - 1).unwrap_or(0);
        }
    }
    program.push(stmt(BPF_RET | BPF_K, ACCEPT));
    program.push(stmt(BPF_RET | BPF_K, DROP));
    program
}

/// The same tests with the verdicts swapped: accepts exactly what `program`
/// drops (to capture what a filter refuses, e.g. when debugging it).
pub fn invert(program: &[Insn]) -> Vec<Insn> {
    program
        .iter()
        .map(|insn| {
            if insn.code == BPF_RET | BPF_K {
                let k = if insn.k == DROP { ACCEPT } else { DROP };
                Insn { k, ..*insn }
            } else {
                *insn
            }
        })
        .collect()
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
                c if c == BPF_JMP | BPF_JGE | BPF_K => {
                    pc += usize::from(if a >= insn.k { insn.jt } else { insn.jf });
                }
                c if c == BPF_JMP | BPF_JGT | BPF_K => {
                    pc += usize::from(if a > insn.k { insn.jt } else { insn.jf });
                }
                c if c == BPF_LD | BPF_W | BPF_LEN => a = packet.len() as u32,
                c if c == BPF_ALU | BPF_SUB | BPF_X => a = a.wrapping_sub(x),
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

    fn full() -> FilterSpec {
        FilterSpec::any_advert(true, false)
    }

    /// The packet's VRID byte follows the version byte.
    fn with_vrid(mut packet: Vec<u8>, at: usize, vrid: u8) -> Vec<u8> {
        packet[at + 1] = vrid;
        packet
    }

    #[test]
    fn ipv4_accepts_v2_and_v3_adverts_with_ttl_255() {
        let program = ipv4_program(&full());
        assert_eq!(run(&program, &ipv4(255, 5, 0x21), &[]), ACCEPT);
        assert_eq!(run(&program, &ipv4(255, 5, 0x31), &[]), ACCEPT);
        // IP options move the VRRP header; the filter follows the IHL.
        assert_eq!(run(&program, &ipv4(255, 6, 0x31), &[]), ACCEPT);
    }

    #[test]
    fn ipv4_drops_bad_ttl_version_and_type() {
        let program = ipv4_program(&full());
        assert_eq!(run(&program, &ipv4(254, 5, 0x31), &[]), DROP);
        assert_eq!(run(&program, &ipv4(1, 5, 0x21), &[]), DROP);
        assert_eq!(run(&program, &ipv4(255, 5, 0x41), &[]), DROP);
        assert_eq!(run(&program, &ipv4(255, 5, 0x32), &[]), DROP);
        assert_eq!(run(&program, &ipv4(255, 5, 0x11), &[]), DROP);
        // Truncated before the VRRP header.
        assert_eq!(run(&program, &ipv4(255, 5, 0x31)[..20], &[]), DROP);
    }

    #[test]
    fn only_the_versions_run_on_the_socket_pass() {
        let v3_only = FilterSpec {
            accept_v2: false,
            ..full()
        };
        let program = ipv4_program(&v3_only);
        assert_eq!(run(&program, &ipv4(255, 5, 0x31), &[]), ACCEPT);
        assert_eq!(run(&program, &ipv4(255, 5, 0x21), &[]), DROP);
        let none = FilterSpec {
            accept_v2: false,
            accept_v3: false,
            ..full()
        };
        assert_eq!(run(&ipv4_program(&none), &ipv4(255, 5, 0x31), &[]), DROP);
    }

    #[test]
    fn only_the_vrids_run_on_the_socket_pass() {
        let spec = FilterSpec {
            vrids: vec![51, 7, 52, 53, 200],
            ..full()
        };
        assert_eq!(vrid_ranges(&spec.vrids), [(7, 7), (51, 53), (200, 200)]);
        let program = ipv4_program(&spec);
        for vrid in 0..=255u8 {
            let expected = if spec.vrids.contains(&vrid) {
                ACCEPT
            } else {
                DROP
            };
            let packet = with_vrid(ipv4(255, 5, 0x21), 20, vrid);
            assert_eq!(run(&program, &packet, &[]), expected, "VRID {vrid}");
            let v6 = ipv6_program(&spec);
            let mut ip6 = [0u8; 40];
            ip6[7] = 255;
            assert_eq!(
                run(&v6, &[0x31, vrid, 100, 1], &ip6),
                expected,
                "v6 VRID {vrid}"
            );
        }
        // The version test still comes first.
        assert_eq!(
            run(&program, &with_vrid(ipv4(255, 5, 0x41), 20, 51), &[]),
            DROP
        );
    }

    #[test]
    fn too_many_vrid_ranges_are_left_to_user_space() {
        let odd: Vec<u8> = (1..=255u8).step_by(2).collect();
        let program = ipv4_program(&FilterSpec {
            vrids: odd,
            ..full()
        });
        assert!(program.len() < 20, "{}", program.len());
        assert_eq!(
            run(&program, &with_vrid(ipv4(255, 5, 0x21), 20, 2), &[]),
            ACCEPT
        );
        // A contiguous run of all 255 is one range and stays in the kernel.
        let all: Vec<u8> = (1..=255u8).collect();
        let program = ipv4_program(&FilterSpec {
            vrids: all,
            ..full()
        });
        assert_eq!(
            run(&program, &with_vrid(ipv4(255, 5, 0x21), 20, 0), &[]),
            DROP
        );
        assert_eq!(
            run(&program, &with_vrid(ipv4(255, 5, 0x21), 20, 9), &[]),
            ACCEPT
        );
    }

    #[test]
    fn ipv4_unicast_keeps_any_ttl() {
        let program = ipv4_program(&FilterSpec::any_advert(false, false));
        assert_eq!(run(&program, &ipv4(64, 5, 0x31), &[]), ACCEPT);
        assert_eq!(run(&program, &ipv4(64, 5, 0x30), &[]), DROP);
    }

    #[test]
    fn ah_socket_checks_next_header_then_the_vrrp_header_behind_it() {
        let spec = FilterSpec {
            vrids: vec![55],
            ..FilterSpec::any_advert(true, true)
        };
        let program = ipv4_program(&spec);
        let ah = |ttl: u8, next: u8, first: u8, vrid: u8| {
            let mut p = vec![0u8; 20 + 24 + 8];
            p[0] = 0x45;
            p[8] = ttl;
            p[9] = 51;
            p[20] = next;
            p[44] = first;
            p[45] = vrid;
            p
        };
        assert_eq!(run(&program, &ah(255, 112, 0x21, 55), &[]), ACCEPT);
        assert_eq!(run(&program, &ah(200, 112, 0x21, 55), &[]), DROP);
        assert_eq!(run(&program, &ah(255, 6, 0x21, 55), &[]), DROP);
        assert_eq!(run(&program, &ah(255, 112, 0x31, 55), &[]), DROP);
        assert_eq!(run(&program, &ah(255, 112, 0x21, 54), &[]), DROP);
        assert_eq!(run(&program, &ah(255, 112, 0x21, 55)[..45], &[]), DROP);
    }

    #[test]
    fn a_range_then_a_single_vrid() {
        let spec = FilterSpec {
            vrids: vec![51, 52, 54],
            ..full()
        };
        let program = ipv4_program(&spec);
        let shadow = invert(&program);
        for vrid in 0..=255u8 {
            let packet = with_vrid(ipv4(255, 5, 0x21), 20, vrid);
            let expected = if [51, 52, 54].contains(&vrid) {
                ACCEPT
            } else {
                DROP
            };
            assert_eq!(
                run(&program, &packet, &[]),
                expected,
                "VRID {vrid}: {program:?}"
            );
            assert_ne!(run(&shadow, &packet, &[]), expected, "shadow VRID {vrid}");
        }
    }

    #[test]
    fn inverted_program_accepts_exactly_what_the_filter_drops() {
        let spec = FilterSpec {
            vrids: vec![1, 2, 3, 51, 99],
            ..full()
        };
        let program = ipv4_program(&spec);
        let shadow = invert(&program);
        let mut seed = 0x1234_5678_u32;
        for _ in 0..5000 {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let [a, b, c, d] = seed.to_le_bytes();
            let ttl = if a & 1 == 0 { 255 } else { a };
            let first = [0x21, 0x31, b][usize::from(c % 3)];
            let vrid = [51, 99, d, 2][usize::from(c % 4)];
            let packet = with_vrid(ipv4(ttl, 5, first), 20, vrid);
            let verdict = run(&program, &packet, &[]);
            assert_ne!(verdict, run(&shadow, &packet, &[]), "{packet:02x?}");
        }
        // A packet too short for the VRRP header is refused by a length test,
        // not by an aborted load (which would drop it in both programs).
        for cut in 20..22 {
            let short = &ipv4(255, 5, 0x21)[..cut];
            assert_eq!(run(&program, short, &[]), DROP);
            assert_eq!(run(&shadow, short, &[]), ACCEPT);
        }
    }

    #[test]
    fn ipv6_reads_hop_limit_from_network_header() {
        let program = ipv6_program(&full());
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
