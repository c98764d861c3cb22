//! An HTTP receiver on loopback that records every request (method, path
//! with query, headers, body) and answers 200, or 500 for paths under
//! `/fail`: the far end of webhooks, Slack, Discord, ntfy and pings.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// Header names in lower case.
    pub headers: HashMap<String, String>,
    pub body: String,
}

impl Request {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map(String::as_str).unwrap_or("")
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

pub struct Receiver {
    pub port: u16,
    seen: Arc<Mutex<Vec<Request>>>,
}

impl Receiver {
    /// Listens on `ip` (127.0.0.1, or another loopback address) on a free port.
    pub fn start_on(ip: &str) -> Receiver {
        let listener = TcpListener::bind((ip, 0)).expect("bind the receiver");
        let port = listener.local_addr().unwrap().port();
        let seen: Arc<Mutex<Vec<Request>>> = Arc::default();
        let record = seen.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let record = record.clone();
                std::thread::spawn(move || serve(conn, record));
            }
        });
        Receiver { port, seen }
    }

    pub fn start() -> Receiver {
        Receiver::start_on("127.0.0.1")
    }

    pub fn url(&self, path: &str) -> String {
        format!("127.0.0.1:{}{path}", self.port)
    }

    /// Every request so far whose path starts with `prefix`.
    pub fn requests(&self, prefix: &str) -> Vec<Request> {
        let seen = self.seen.lock().unwrap();
        seen.iter()
            .filter(|r| r.path.starts_with(prefix))
            .cloned()
            .collect()
    }

    pub fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
}

fn serve(conn: TcpStream, record: Arc<Mutex<Vec<Request>>>) {
    let mut reader = BufReader::new(conn.try_clone().expect("clone the stream"));
    let mut conn = conn;
    // Keep-alive: one request after another on the same connection.
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or("").to_string();
        let path = parts.next().unwrap_or("").to_string();
        let mut headers = HashMap::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
        let len: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let status = if path.starts_with("/fail") {
            "500 Internal Server Error"
        } else {
            "200 OK"
        };
        record.lock().unwrap().push(Request {
            method,
            path,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        });
        let reply = format!("HTTP/1.1 {status}\r\ncontent-length: 2\r\n\r\nok");
        if conn.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}
