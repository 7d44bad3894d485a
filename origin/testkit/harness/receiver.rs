//! A webhook receiver on 127.0.0.1 for tests: records every request it gets and answers from a script
//! (200 once the script is empty). A test waits for the next request with [`Receiver::next`] (an event,
//! with a generous deadline), never for a clock.
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the receiver answers one request.
pub enum Reply {
    Status(u16),
    /// Hold the request unanswered until [`Receiver::release`], then answer this status.
    Hold(u16),
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Hit {
    pub method: String,
    pub path: String,
    /// Header names lowercased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Hit {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

pub struct Receiver {
    pub url: String,
    script: Arc<Mutex<VecDeque<Reply>>>,
    hits: mpsc::Receiver<Hit>,
    release: mpsc::Sender<()>,
}

impl Receiver {
    pub fn start(script: Vec<Reply>) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let script = Arc::new(Mutex::new(VecDeque::from(script)));
        let (tx, hits) = mpsc::channel();
        let (release, held) = mpsc::channel::<()>();
        let held = Arc::new(Mutex::new(held));
        let s = script.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let (s, tx, held) = (s.clone(), tx.clone(), held.clone());
                std::thread::spawn(move || serve(conn, &s, &tx, &held));
            }
        });
        Receiver {
            url,
            script,
            hits,
            release,
        }
    }

    /// Answer the next requests with these.
    pub fn push(&self, replies: Vec<Reply>) {
        self.script.lock().unwrap().extend(replies);
    }

    /// The next request, waiting up to a minute for it.
    pub fn next(&self) -> Hit {
        self.hits
            .recv_timeout(Duration::from_secs(60))
            .expect("no webhook request arrived within 60 s")
    }

    /// Is there a request not yet taken? (Taken requests only: use after the expected ones arrived.)
    pub fn pending(&self) -> Option<Hit> {
        self.hits.try_recv().ok()
    }

    /// Let a held request answer.
    pub fn release(&self) {
        let _ = self.release.send(());
    }
}

fn serve(
    conn: TcpStream,
    script: &Mutex<VecDeque<Reply>>,
    tx: &mpsc::Sender<Hit>,
    held: &Mutex<mpsc::Receiver<()>>,
) {
    let mut r = BufReader::new(conn.try_clone().unwrap());
    let mut line = String::new();
    if r.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    if r.read_exact(&mut body).is_err() {
        return;
    }
    let reply = script.lock().unwrap().pop_front();
    let _ = tx.send(Hit {
        method,
        path,
        headers,
        body,
    });
    let code = match reply {
        None => 200,
        Some(Reply::Status(c)) => c,
        Some(Reply::Hold(c)) => {
            let _ = held.lock().unwrap().recv();
            c
        }
    };
    let mut conn = conn;
    let _ = write!(
        conn,
        "HTTP/1.1 {code} X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
    );
}
