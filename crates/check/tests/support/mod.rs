//! Small loopback servers for fault injection.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::task::JoinHandle;

/// What the responder does with each connection.
#[derive(Debug, Clone)]
pub enum Mode {
    /// Reads the request, sends these bytes, closes.
    Respond(Vec<u8>),
    /// Reads the request, then sends one byte every 50 ms forever.
    Trickle,
    /// Accepts and never sends anything.
    Silent,
    /// Accepts and resets (SO_LINGER 0).
    Reset,
}

/// A TCP responder on 127.0.0.1 that can be stopped and restarted on its port.
pub struct Responder {
    pub addr: SocketAddr,
    mode: Arc<Mutex<Mode>>,
    pub last_request: Arc<Mutex<Vec<u8>>>,
    task: Option<JoinHandle<()>>,
}

impl Responder {
    pub async fn start(mode: Mode) -> Responder {
        let mut responder = Responder {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            mode: Arc::new(Mutex::new(mode)),
            last_request: Arc::new(Mutex::new(Vec::new())),
            task: None,
        };
        responder.resume().await;
        responder
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.mode.lock().expect("mode lock") = mode;
    }

    pub fn request(&self) -> Vec<u8> {
        self.last_request.lock().expect("request lock").clone()
    }

    /// Stops listening: new connections are refused.
    pub fn stop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }

    /// Listens again (same port once started).
    pub async fn resume(&mut self) {
        let socket = TcpSocket::new_v4().expect("socket");
        socket.set_reuseaddr(true).expect("reuseaddr");
        socket.bind(self.addr).expect("bind");
        let listener = socket.listen(64).expect("listen");
        self.addr = listener.local_addr().expect("local addr");
        let mode = self.mode.clone();
        let last = self.last_request.clone();
        self.task = Some(tokio::spawn(async move {
            // Dropping the listener task aborts the connection tasks too.
            struct AbortAll(Vec<JoinHandle<()>>);
            impl Drop for AbortAll {
                fn drop(&mut self) {
                    for task in &self.0 {
                        task.abort();
                    }
                }
            }
            let mut guard = AbortAll(Vec::new());
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let mode = mode.lock().expect("mode lock").clone();
                let last = last.clone();
                guard.0.push(tokio::spawn(serve(stream, mode, last)));
            }
        }));
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn read_request(stream: &mut TcpStream) -> Vec<u8> {
    let mut request = Vec::new();
    let mut buffer = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => request.extend_from_slice(buffer.get(..n).unwrap_or_default()),
        }
    }
    request
}

async fn serve(mut stream: TcpStream, mode: Mode, last: Arc<Mutex<Vec<u8>>>) {
    match mode {
        Mode::Respond(bytes) => {
            let request = read_request(&mut stream).await;
            *last.lock().expect("request lock") = request;
            let _ = stream.write_all(&bytes).await;
            let _ = stream.shutdown().await;
        }
        Mode::Trickle => {
            read_request(&mut stream).await;
            let mut ticker = tokio::time::interval(Duration::from_millis(50));
            let header = b"HTTP/1.0 200 OK\r\n";
            for byte in header.iter().cycle() {
                ticker.tick().await;
                if stream.write_all(&[*byte]).await.is_err() {
                    return;
                }
            }
        }
        Mode::Silent => {
            let mut sink = [0u8; 1024];
            while let Ok(n) = stream.read(&mut sink).await {
                if n == 0 {
                    return;
                }
            }
        }
        Mode::Reset => {
            let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
            drop(stream);
        }
    }
}

/// An HTTP/1.0 response with Content-Length.
pub fn http_response(status: &str, body: &[u8]) -> Vec<u8> {
    let mut response = format!(
        "HTTP/1.0 {status}\r\nServer: test\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    response.extend_from_slice(body);
    response
}

/// A free loopback TCP port (bound then released; the caller binds it next).
/// Never hands out the same port twice in one test process (parallel tests).
pub fn free_port() -> u16 {
    static GIVEN: Mutex<Vec<u16>> = Mutex::new(Vec::new());
    loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("free port");
        let mut given = GIVEN.lock().expect("port list");
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}

/// A scratch directory removed on drop.
pub struct ScratchDir(pub std::path::PathBuf);

impl ScratchDir {
    pub fn new(tag: &str) -> ScratchDir {
        static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("check-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        ScratchDir(dir)
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Waits until something accepts TCP connections on `port`.
pub fn wait_listening(port: u16) {
    lab::wait_for(
        &format!("a listener on port {port}"),
        Duration::from_secs(10),
        Duration::from_millis(20),
        || std::net::TcpStream::connect(("127.0.0.1", port)).ok(),
    )
    .expect("server listening");
}

/// Waits until nothing accepts TCP connections on `port`.
pub fn wait_closed(port: u16) {
    lab::wait_for(
        &format!("port {port} closed"),
        Duration::from_secs(10),
        Duration::from_millis(20),
        || std::net::TcpStream::connect(("127.0.0.1", port)).err(),
    )
    .expect("server stopped");
}

/// Debian's nginx serving a scratch document root on loopback, HTTP and
/// (when a certificate could be made) HTTPS.
pub struct Nginx {
    pub dir: ScratchDir,
    pub http_port: u16,
    pub https_port: Option<u16>,
    child: Option<std::process::Child>,
}

pub const PAGE: &[u8] = b"<html><body>keepalived-rs check page</body></html>\n";

impl Nginx {
    /// `None` (with a printed reason) when nginx is not installed.
    pub fn start(tls: bool) -> Option<Nginx> {
        if !lab::have_program("nginx") {
            println!("SKIP: nginx not installed (apt-get install -y nginx-light)");
            return None;
        }
        let dir = ScratchDir::new("nginx");
        let root = dir.0.join("www");
        std::fs::create_dir_all(&root).expect("docroot");
        std::fs::write(root.join("index.html"), PAGE).expect("page");
        let https_port = if tls {
            if !lab::have_program("openssl") {
                println!("SKIP: openssl CLI not installed, no HTTPS");
                return None;
            }
            make_certificates(&dir.0);
            Some(free_port())
        } else {
            None
        };
        let http_port = free_port();
        let d = dir.0.display();
        let tls_server = https_port.map_or(String::new(), |port| {
            format!(
                "server {{ listen 127.0.0.1:{port} ssl; ssl_certificate {d}/cert.pem; \
                 ssl_certificate_key {d}/key.pem; root {d}/www; \
                 location = /teapot {{ return 418; }} \
                 location = /sni {{ return 200 \"sni=$ssl_server_name;\"; }} }}"
            )
        });
        let conf = format!(
            "daemon off; master_process off; pid {d}/nginx.pid; error_log {d}/error.log;\n\
             events {{ worker_connections 64; }}\n\
             http {{ access_log off; client_body_temp_path {d}/body; proxy_temp_path {d}/proxy;\n\
             fastcgi_temp_path {d}/fastcgi; uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;\n\
             server {{ listen 127.0.0.1:{http_port}; root {d}/www;\n\
             location = /teapot {{ return 418; }} }}\n{tls_server} }}\n"
        );
        std::fs::write(dir.0.join("nginx.conf"), conf).expect("conf");
        let mut nginx = Nginx {
            dir,
            http_port,
            https_port,
            child: None,
        };
        nginx.resume();
        Some(nginx)
    }

    /// Stops nginx (the service goes away).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        wait_closed(self.http_port);
    }

    /// Starts nginx again on the same ports.
    pub fn resume(&mut self) {
        let child = std::process::Command::new("nginx")
            .arg("-p")
            .arg(&self.dir.0)
            .arg("-c")
            .arg(self.dir.0.join("nginx.conf"))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("nginx starts");
        self.child = Some(child);
        wait_listening(self.http_port);
        let exited = self
            .child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten());
        assert!(
            exited.is_none(),
            "nginx exited: {}",
            std::fs::read_to_string(self.dir.0.join("error.log")).unwrap_or_default()
        );
        if let Some(port) = self.https_port {
            wait_listening(port);
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn openssl(dir: &std::path::Path, args: &[&str]) {
    let output = std::process::Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl runs");
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// ca.pem (test CA), cert.pem/key.pem (server, signed by it, CN check.test),
/// other-ca.pem (an unrelated CA).
pub fn make_certificates(dir: &std::path::Path) {
    for (name, cn) in [("ca", "check test CA"), ("other-ca", "other CA")] {
        openssl(
            dir,
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                &format!("/CN={cn}"),
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.pem"),
            ],
        );
    }
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=check.test",
            "-keyout",
            "key.pem",
            "-out",
            "server.csr",
        ],
    );
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:check.test\nbasicConstraints=CA:FALSE\n",
    )
    .expect("ext file");
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "server.ext",
            "-out",
            "cert.pem",
        ],
    );
}
