//! The few kernel structures and socket options that no safe crate covers.
//!
//! This is the only module of the crate allowed to use `unsafe`; every block
//! states why it is sound. Everything else goes through `socket2`, `nix` or
//! rtnetlink.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

use socket2::SockAddr;

/// Hardware address length of Ethernet (and of the VMACs keepalived makes).
pub const ETHER_ADDR_LEN: usize = 6;

/// A `sockaddr_ll` for a `PF_PACKET` socket: the interface to send on, the
/// EtherType and the destination hardware address.
///
/// keepalived fills the same fields for its GARP/NA sockets (`vrrp_arp.c`,
/// `vrrp_ndisc.c`); the kernel only really reads family, protocol and
/// ifindex for `SOCK_RAW` packet sockets.
pub fn packet_sockaddr(
    ifindex: u32,
    ethertype: u16,
    dest: [u8; ETHER_ADDR_LEN],
) -> io::Result<SockAddr> {
    let ifindex = i32::try_from(ifindex).map_err(|_| io::Error::from_raw_os_error(libc::ENODEV))?;
    let family = u16::try_from(libc::AF_PACKET)
        .map_err(|_| io::Error::from_raw_os_error(libc::EAFNOSUPPORT))?;
    let mut sll_addr = [0u8; 8];
    sll_addr[..ETHER_ADDR_LEN].copy_from_slice(&dest);
    let ll = libc::sockaddr_ll {
        sll_family: family,
        sll_protocol: ethertype.to_be(),
        sll_ifindex: ifindex,
        sll_hatype: 0,
        sll_pkttype: 0,
        sll_halen: ETHER_ADDR_LEN as u8,
        sll_addr,
    };
    let len = libc::socklen_t::try_from(std::mem::size_of::<libc::sockaddr_ll>())
        .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: `try_init` hands us a zeroed `sockaddr_storage`, which is larger
    // than and suitably aligned for `sockaddr_ll` (the kernel's own contract
    // for `struct sockaddr_storage`). We write one fully initialised
    // `sockaddr_ll` at its start and report exactly its size as the length.
    let ((), addr) = unsafe {
        SockAddr::try_init(|storage, addr_len| {
            std::ptr::write(storage.cast::<libc::sockaddr_ll>(), ll);
            *addr_len = len;
            Ok(())
        })
    }?;
    Ok(addr)
}

/// `IPV6_CHECKSUM`: make the kernel compute (and verify on receive) the
/// checksum of a raw IPv6 socket's payload at `offset` bytes in. keepalived
/// sets 6 for VRRP (`if_setsockopt_ipv6_checksum()`), per RFC 5798 §5.2.8
/// (the checksum covers the IPv6 pseudo-header).
pub fn set_ipv6_checksum_offset(fd: BorrowedFd<'_>, offset: i32) -> io::Result<()> {
    let len = libc::socklen_t::try_from(std::mem::size_of::<libc::c_int>())
        .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: `fd` is a live descriptor for the lifetime of the borrow; the
    // option value points to a `c_int` on our stack that outlives the call,
    // and `len` is exactly its size, as IPV6_CHECKSUM expects.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_IPV6,
            libc::IPV6_CHECKSUM,
            std::ptr::from_ref(&offset).cast::<libc::c_void>(),
            len,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// `IP_MULTICAST_IF` by interface index (`struct ip_mreqn`); socket2 only
/// offers the by-address form, and a VRRP interface may have no IPv4 address.
pub fn set_ipv4_multicast_if_index(fd: BorrowedFd<'_>, ifindex: u32) -> io::Result<()> {
    let ifindex = i32::try_from(ifindex).map_err(|_| io::Error::from_raw_os_error(libc::ENODEV))?;
    let mreqn = libc::ip_mreqn {
        imr_multiaddr: libc::in_addr { s_addr: 0 },
        imr_address: libc::in_addr { s_addr: 0 },
        imr_ifindex: ifindex,
    };
    let len = libc::socklen_t::try_from(std::mem::size_of::<libc::ip_mreqn>())
        .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: `fd` is live for the borrow; the value is a fully initialised
    // `ip_mreqn` on our stack that outlives the call, and `len` is its size,
    // which the kernel accepts for IP_MULTICAST_IF.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_IP,
            libc::IP_MULTICAST_IF,
            std::ptr::from_ref(&mreqn).cast::<libc::c_void>(),
            len,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The socket's drop counter (`sk_drops`: packets refused for a full receive
/// queue), read with `SO_MEMINFO` (Linux 4.12+); no safe wrapper offers it.
pub fn socket_drops(fd: BorrowedFd<'_>) -> io::Result<u32> {
    const VARS: usize = 9; // SK_MEMINFO_VARS
    let mut info = [0u32; VARS];
    let mut len = libc::socklen_t::try_from(std::mem::size_of_val(&info))
        .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: `fd` is live for the borrow; the kernel writes at most `len`
    // bytes into `info`, an array on our stack of exactly that size, and
    // updates `len` to what it wrote.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_MEMINFO,
            info.as_mut_ptr().cast::<libc::c_void>(),
            &raw mut len,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    let drops = usize::try_from(libc::SK_MEMINFO_DROPS).unwrap_or(VARS);
    info.get(drops)
        .copied()
        .filter(|_| usize::try_from(len).unwrap_or(0) > drops * 4)
        .ok_or_else(|| io::Error::from_raw_os_error(libc::ENOPROTOOPT))
}

/// Registers a socket with the tokio reactor of the current runtime.
///
/// Panics like `AsyncFd::register` if called outside a tokio runtime.
pub fn register(socket: socket2::Socket) -> io::Result<tokio::io::unix::AsyncFd<socket2::Socket>> {
    // SAFETY: `socket2::Socket` owns its descriptor (an `OwnedFd` inside):
    // it stays open and is the same descriptor until the `Socket` is dropped,
    // and `as_raw_fd()` always returns it. The `AsyncFd` takes ownership of
    // the `Socket`, so the descriptor outlives the registration.
    unsafe { tokio::io::unix::AsyncFd::register(socket) }.map_err(|e| e.into_parts().1)
}

/// Waits until `socket` has room to send, through an event-loop registration made
/// for this wait only (a socket that stays registered wakes the loop on every
/// EPOLLOUT edge, i.e. after each packet sent).
pub async fn wait_writable(socket: &socket2::Socket) -> io::Result<()> {
    struct LentFd(std::os::fd::RawFd);
    impl std::os::fd::AsRawFd for LentFd {
        fn as_raw_fd(&self) -> std::os::fd::RawFd {
            self.0
        }
    }
    let lent = LentFd(std::os::fd::AsRawFd::as_raw_fd(socket));
    // SAFETY: the registration lives only inside this function, which borrows
    // `socket` for its whole body: the descriptor stays open and names the same
    // socket until the `AsyncFd` is dropped (deregistered) at the end of this scope.
    let waiter = unsafe {
        tokio::io::unix::AsyncFd::register_with_interest(lent, tokio::io::Interest::WRITABLE)
    }
    .map_err(|e| e.into_parts().1)?;
    let _ready = waiter.writable().await?;
    Ok(())
}

/// A socket's readability watched by the event loop: while this lives the socket is in
/// the reactor's epoll set, and each arriving packet wakes the thread that waits there.
/// Dropping it takes the socket out, so that packets only queue (a receiver reading
/// at its own pace then costs no wake-up per packet).
#[derive(Debug)]
pub struct ReadWatch {
    // Declared first, so dropped (deregistered) before the socket it names.
    registration: tokio::io::unix::AsyncFd<LentFd>,
    _socket: std::sync::Arc<socket2::Socket>,
}

#[derive(Debug)]
struct LentFd(std::os::fd::RawFd);

impl std::os::fd::AsRawFd for LentFd {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.0
    }
}

impl ReadWatch {
    /// Registers `socket` for readability with the current runtime's reactor.
    ///
    /// Panics like `AsyncFd::register` if called outside a tokio runtime.
    pub fn new(socket: std::sync::Arc<socket2::Socket>) -> io::Result<ReadWatch> {
        let lent = LentFd(std::os::fd::AsRawFd::as_raw_fd(&*socket));
        // SAFETY: the watch holds an `Arc` of the socket, and its fields drop in
        // declaration order: the descriptor stays open and names the same socket until
        // the registration is dropped (deregistered).
        let registration = unsafe {
            tokio::io::unix::AsyncFd::register_with_interest(lent, tokio::io::Interest::READABLE)
        }
        .map_err(|e| e.into_parts().1)?;
        Ok(ReadWatch {
            registration,
            _socket: socket,
        })
    }

    /// Waits until the socket is readable, then runs `read` (a non-blocking read that
    /// returns what it read and whether it emptied the queue). `read` returning
    /// `WouldBlock` clears the readiness and waits again; so does a read that emptied
    /// the queue, whose next attempt would only find EAGAIN (a packet arriving
    /// meanwhile raises a newer readiness, which that does not clear).
    pub async fn read_with<R>(
        &self,
        mut read: impl FnMut() -> io::Result<(R, bool)>,
    ) -> io::Result<R> {
        loop {
            let mut ready = self.registration.readable().await?;
            match ready.try_io(|_| read()) {
                Ok(Ok((result, emptied))) => {
                    if emptied {
                        ready.clear_ready();
                    }
                    return Ok(result);
                }
                Ok(Err(error)) => return Err(error),
                Err(_would_block) => continue,
            }
        }
    }
}

/// Hands the allocator's free pages back to the kernel (glibc `malloc_trim(0)`; a no-op
/// elsewhere). glibc only shrinks the top of the heap by itself, so a large structure
/// freed below live data stays resident until this.
pub fn trim_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes no pointers and only walks the allocator's own free
    // lists under its locks; it is safe to call at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// A timerfd as the reactor sees it (`AsyncFd` wants `AsRawFd`; nix's `TimerFd` only
/// offers `AsFd`).
pub struct TimerIo(pub nix::sys::timerfd::TimerFd);

impl std::os::fd::AsRawFd for TimerIo {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        use std::os::fd::AsFd;
        self.0.as_fd().as_raw_fd()
    }
}

/// Registers a timerfd with the tokio reactor of the current runtime.
pub fn register_timer(
    timer: nix::sys::timerfd::TimerFd,
) -> io::Result<tokio::io::unix::AsyncFd<TimerIo>> {
    // SAFETY: `TimerFd` owns its descriptor (an `OwnedFd` inside), which stays open and
    // unchanged until it is dropped; `TimerIo::as_raw_fd` always returns it, and the
    // `AsyncFd` owns the `TimerIo`, so the descriptor outlives the registration.
    unsafe { tokio::io::unix::AsyncFd::register(TimerIo(timer)) }.map_err(|e| e.into_parts().1)
}

/// `kill(2)` with any signal number, including the real-time ones (keepalived's
/// `SIGJSON` is SIGRTMIN+2, `SIGSTATS_CLEAR` SIGRTMAX-1) that `nix::sys::signal::Signal`
/// cannot name.
pub fn send_signal(pid: i32, signal: i32) -> io::Result<()> {
    // SAFETY: kill(2) takes two integers and touches no memory of ours; an invalid
    // pid or signal is reported through errno.
    let rc = unsafe { libc::kill(pid, signal) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// A civil date and time of day as the host's time zone (`TZ`, else /etc/localtime)
/// shows it: (year, month 1-12, day, hour, minute, second).
pub type LocalTime = (i64, u32, u32, i64, i64, i64);

/// `localtime_r(3)`: the host's local civil time of `secs` since the epoch.
pub fn local_time(secs: i64) -> Option<LocalTime> {
    let t: libc::time_t = secs;
    // SAFETY: an all-zero `tm` is a valid value of that plain C struct.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are to live locals for the duration of the call;
    // localtime_r writes only into `tm` (and reads the time-zone database).
    let result = unsafe { libc::localtime_r(&t, &mut tm) };
    if result.is_null() {
        return None;
    }
    Some((
        i64::from(tm.tm_year) + 1900,
        u32::try_from(tm.tm_mon + 1).ok()?,
        u32::try_from(tm.tm_mday).ok()?,
        i64::from(tm.tm_hour),
        i64::from(tm.tm_min),
        i64::from(tm.tm_sec),
    ))
}

/// `mktime(3)`: seconds since the epoch of a civil time in the host's time zone (the
/// C library decides daylight saving time, `tm_isdst = -1`). `None` when it cannot be
/// represented.
pub fn local_to_epoch(time: LocalTime) -> Option<i64> {
    let (year, month, day, hour, minute, second) = time;
    // SAFETY: an all-zero `tm` is a valid value of that plain C struct.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    tm.tm_year = i32::try_from(year - 1900).ok()?;
    tm.tm_mon = i32::try_from(month).ok()? - 1;
    tm.tm_mday = i32::try_from(day).ok()?;
    tm.tm_hour = i32::try_from(hour).ok()?;
    tm.tm_min = i32::try_from(minute).ok()?;
    tm.tm_sec = i32::try_from(second).ok()?;
    tm.tm_isdst = -1;
    // SAFETY: `tm` is a live, initialised local; mktime normalises it in place and
    // keeps no pointer to it.
    let t = unsafe { libc::mktime(&mut tm) };
    (t != -1).then_some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A full socket: the wait ends when the peer reads, not before, and the
    /// registration is gone afterwards (the socket can be waited on again).
    #[tokio::test]
    async fn wait_writable_returns_once_the_peer_makes_room() {
        use std::io::Read;
        let (writer, mut reader) =
            socket2::Socket::pair(socket2::Domain::UNIX, socket2::Type::STREAM, None)
                .expect("socketpair");
        writer.set_nonblocking(true).expect("non-blocking");
        writer.set_send_buffer_size(4096).expect("SO_SNDBUF");
        let chunk = [0u8; 1024];
        let mut queued = 0usize;
        while writer.send(&chunk).is_ok() {
            queued += chunk.len();
        }
        assert!(queued > 0, "nothing could be queued");
        for round in 0..2 {
            let wait = wait_writable(&writer);
            tokio::pin!(wait);
            // Full: the wait must not end on its own.
            let early = tokio::time::timeout(std::time::Duration::from_millis(50), &mut wait).await;
            assert!(early.is_err(), "round {round}: writable while full");
            let mut sink = vec![0u8; queued + 65536];
            let read = reader.read(&mut sink).expect("drain");
            assert!(read > 0);
            tokio::time::timeout(std::time::Duration::from_secs(5), wait)
                .await
                .unwrap_or_else(|_| panic!("round {round}: still waiting after the peer read"))
                .expect("wait_writable");
            queued = 0;
            while writer.send(&chunk).is_ok() {
                queued += chunk.len();
            }
        }
    }

    #[test]
    fn packet_sockaddr_has_family_protocol_and_index() {
        let addr = packet_sockaddr(7, 0x0806, [0xff; 6]).expect("valid sockaddr_ll");
        assert_eq!(i32::from(addr.family()), libc::AF_PACKET);
        assert_eq!(
            addr.len() as usize,
            std::mem::size_of::<libc::sockaddr_ll>()
        );
        // Bytes 2..4 are the protocol in network order, 4..8 the ifindex.
        let raw = addr.as_storage();
        // SAFETY: test-only view of the storage we just initialised.
        let ll = unsafe { &*std::ptr::from_ref(&raw).cast::<libc::sockaddr_ll>() };
        assert_eq!(u16::from_be(ll.sll_protocol), 0x0806);
        assert_eq!(ll.sll_ifindex, 7);
        assert_eq!(ll.sll_addr[..6], [0xff; 6]);
    }
}
