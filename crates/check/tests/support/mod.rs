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
