//! The malformed phase: requests no well-behaved client sends, over raw
//! TCP. Each must get a 4xx (the one documented, where there is one) or a
//! closed connection — never a hang, a 5xx or a dead server; the
//! orchestrator checks `GET /health` after each.

use std::io::{BufReader, ErrorKind, Read as _, Write as _};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};

use super::http::{Conn, Response, read_response};

/// How long a plain malformed request may take to be answered or closed.
const ANSWER_WITHIN: Duration = Duration::from_secs(5);
/// Scheduling slack on top of the server's timeouts.
const SLACK: Duration = Duration::from_secs(5);

/// What the cases need to know about the server.
pub(crate) struct Probe {
    pub(crate) addr: SocketAddr,
    pub(crate) header_timeout: Duration,
    pub(crate) stall_timeout: Duration,
    pub(crate) max_body_bytes: usize,
    pub(crate) seed: u64,
}

/// A case: its name and the check, which says what happened (`Ok`) or
/// what went wrong (`Err`).
pub(crate) type Case = (&'static str, fn(&Probe) -> Result<String, String>);

/// Every case, in the order run.
pub(crate) const CASES: &[Case] = &[
    ("bad method token", bad_method_token),
    ("unknown method", unknown_method),
    ("huge header line (1 MiB)", huge_header_line),
    ("too many headers (500)", too_many_headers),
    ("huge request line (100 KiB)", huge_request_line),
    ("declared huge body", declared_huge_body),
    (
        "declared huge body, 100-continue",
        declared_huge_body_expect,
    ),
    ("chunked body over the limit", chunked_body_over_limit),
    ("truncated body, then EOF", truncated_body_eof),
    ("truncated body, then stall", truncated_body_stall),
    ("bad percent-encoding: %ZZ", bad_percent_zz),
    ("bad percent-encoding: cut %4", bad_percent_cut),
    ("bad percent-encoding in a query", bad_percent_query),
    ("raw non-ASCII bytes in the path", raw_non_ascii_path),
    ("NUL in a header value", nul_in_header),
    ("two different Content-Lengths", conflicting_lengths),
    ("negative Content-Length", negative_length),
    ("Content-Length and chunked", length_and_chunked),
    ("bad chunk size", bad_chunk_size),
    ("truncated JSON batch", truncated_json_batch),
    ("garbage bytes", garbage_bytes),
    ("HTTP/2 preface", http2_preface),
    ("idle connection", idle_connection),
    ("slowloris: a header byte every 200 ms", slowloris),
    ("50 slowloris clients at once", slowloris_crowd),
    ("client that never reads", never_reads),
];

/// What a raw exchange ended in.
enum Seen {
    Answer(Box<Response>),
    Closed,
    /// Still open, nothing answered, when the wait ended.
    Open,
}

fn connect(p: &Probe) -> Result<TcpStream, String> {
    let stream = TcpStream::connect_timeout(&p.addr, ANSWER_WITHIN)
        .map_err(|e| format!("cannot connect: {e}"))?;
    let _ = stream.set_nodelay(true);
    stream
        .set_write_timeout(Some(ANSWER_WITHIN))
        .map_err(|e| e.to_string())?;
    Ok(stream)
}

/// Waits up to `within` for an answer or the end of the connection.
fn wait(stream: &TcpStream, within: Duration) -> Seen {
    let Ok(clone) = stream.try_clone() else {
        return Seen::Closed;
    };
    if clone.set_read_timeout(Some(within)).is_err() {
        return Seen::Closed;
    }
    match read_response(&mut BufReader::new(clone), false) {
        Ok(Some(r)) => Seen::Answer(Box::new(r)),
        Ok(None) => Seen::Closed,
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => Seen::Open,
        // Reset or cut off mid-answer: the server dropped the connection.
        Err(_) => Seen::Closed,
    }
}

/// Connects, sends `bytes` (a write error is fine: the server may close
/// early), and waits for the outcome.
fn exchange(p: &Probe, bytes: &[u8]) -> Result<Seen, String> {
    let mut stream = connect(p)?;
    let _ = stream.write_all(bytes);
    Ok(wait(&stream, ANSWER_WITHIN))
}

/// Accepts one of `statuses` or a closed connection.
fn status_or_close(seen: Seen, statuses: &[u16]) -> Result<String, String> {
    match seen {
        Seen::Answer(r) if statuses.contains(&r.status) => Ok(format!("{}", r.status)),
        Seen::Answer(r) => Err(format!(
            "status {} (wanted {statuses:?} or a close): {}",
            r.status,
            r.excerpt(120)
        )),
        Seen::Closed => Ok("closed".into()),
        Seen::Open => Err(format!(
            "neither answered nor closed within {ANSWER_WITHIN:?}"
        )),
    }
}

/// Accepts any 4xx or a closed connection.
fn client_error_or_close(seen: Seen) -> Result<String, String> {
    match seen {
        Seen::Answer(r) if (400..500).contains(&r.status) => Ok(format!("{}", r.status)),
        Seen::Answer(r) => Err(format!("status {}: {}", r.status, r.excerpt(120))),
        Seen::Closed => Ok("closed".into()),
        Seen::Open => Err(format!(
            "neither answered nor closed within {ANSWER_WITHIN:?}"
        )),
    }
}

/// Requires exactly `status` with the JSON error `code`.
fn json_error(seen: Seen, status: u16, code: &str) -> Result<String, String> {
    let Seen::Answer(r) = seen else {
        return Err(format!("no answer (wanted {status} {code})"));
    };
    let got: Option<String> = serde_json::from_slice::<serde_json::Value>(&r.body)
        .ok()
        .and_then(|v| v["code"].as_str().map(str::to_owned));
    if r.status == status && got.as_deref() == Some(code) {
        Ok(format!("{status} {code}"))
    } else {
        Err(format!(
            "status {} {:?}, wanted {status} {code}: {}",
            r.status,
            got,
            r.excerpt(120)
        ))
    }
}

fn bad_method_token(p: &Probe) -> Result<String, String> {
    status_or_close(
        exchange(p, b"G(T /health HTTP/1.1\r\nhost: x\r\n\r\n")?,
        &[400],
    )
}

fn unknown_method(p: &Probe) -> Result<String, String> {
    let seen = exchange(p, b"BREW /kv/soak-malformed HTTP/1.1\r\nhost: x\r\n\r\n")?;
    json_error(seen, 405, "method_not_allowed")
}

fn huge_header_line(p: &Probe) -> Result<String, String> {
    let mut request = b"GET /health HTTP/1.1\r\nhost: x\r\nx-big: ".to_vec();
    request.resize(request.len() + (1 << 20), b'a');
    request.extend_from_slice(b"\r\n\r\n");
    status_or_close(exchange(p, &request)?, &[431])
}

fn too_many_headers(p: &Probe) -> Result<String, String> {
    let mut request = String::from("GET /health HTTP/1.1\r\nhost: x\r\n");
    for i in 0..500 {
        request.push_str(&format!("x-h{i}: v\r\n"));
    }
    request.push_str("\r\n");
    status_or_close(exchange(p, request.as_bytes())?, &[431])
}

fn huge_request_line(p: &Probe) -> Result<String, String> {
    let request = format!(
        "GET /kv/{} HTTP/1.1\r\nhost: x\r\n\r\n",
        "a".repeat(100 << 10)
    );
    status_or_close(exchange(p, request.as_bytes())?, &[414])
}

fn declared_huge_body(p: &Probe) -> Result<String, String> {
    let request =
        b"PUT /kv/soak-malformed/huge HTTP/1.1\r\nhost: x\r\ncontent-length: 10737418240\r\n\r\n";
    json_error(exchange(p, request)?, 413, "body_too_large")
}

fn declared_huge_body_expect(p: &Probe) -> Result<String, String> {
    let request = b"PUT /kv/soak-malformed/huge HTTP/1.1\r\nhost: x\r\nexpect: 100-continue\r\ncontent-length: 10737418240\r\n\r\n";
    json_error(exchange(p, request)?, 413, "body_too_large")
}

fn chunked_body_over_limit(p: &Probe) -> Result<String, String> {
    let mut stream = connect(p)?;
    let head =
        b"PUT /kv/soak-malformed/chunked HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n";
    let _ = stream.write_all(head);
    let chunk_len = 64 << 10;
    let mut chunk = format!("{chunk_len:x}\r\n").into_bytes();
    chunk.resize(chunk.len() + chunk_len, b'c');
    chunk.extend_from_slice(b"\r\n");
    let mut sent = 0;
    while sent <= p.max_body_bytes + (256 << 10) {
        if stream.write_all(&chunk).is_err() {
            break; // the server answered and closed
        }
        sent += chunk_len;
    }
    let _ = stream.write_all(b"0\r\n\r\n");
    status_or_close(wait(&stream, ANSWER_WITHIN), &[413])
}

/// The key must not have been written by a request that failed.
fn still_absent(p: &Probe, key: &str) -> Result<(), String> {
    let mut conn = Conn::connect(p.addr, ANSWER_WITHIN).map_err(|e| e.to_string())?;
    let r = conn
        .send("GET", &format!("/kv/{key}"), &[], b"")
        .map_err(|e| e.to_string())?;
    if r.status == 404 {
        Ok(())
    } else {
        Err(format!(
            "GET /kv/{key} answered {} after a failed PUT",
            r.status
        ))
    }
}

fn truncated_body_eof(p: &Probe) -> Result<String, String> {
    let mut stream = connect(p)?;
    let _ = stream.write_all(
        b"PUT /kv/soak-malformed/cut HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\n0123456789",
    );
    let _ = stream.shutdown(Shutdown::Write);
    let outcome = status_or_close(wait(&stream, ANSWER_WITHIN), &[400])?;
    still_absent(p, "soak-malformed/cut")?;
    Ok(outcome)
}

fn truncated_body_stall(p: &Probe) -> Result<String, String> {
    let mut stream = connect(p)?;
    let started = Instant::now();
    let _ = stream.write_all(
        b"PUT /kv/soak-malformed/stall HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\n0123456789",
    );
    let seen = wait(&stream, p.stall_timeout + SLACK);
    let took = started.elapsed();
    let outcome = match seen {
        Seen::Answer(r) if r.status == 408 && r.closes() => format!("408 after {took:.1?}"),
        Seen::Answer(r) => return Err(format!("status {}: {}", r.status, r.excerpt(120))),
        Seen::Closed => format!("closed after {took:.1?}"),
        Seen::Open => return Err(format!("still open after {took:.1?}")),
    };
    if took < p.stall_timeout.mul_f64(0.9) {
        return Err(format!("{outcome}: before the stall timeout"));
    }
    still_absent(p, "soak-malformed/stall")?;
    Ok(outcome)
}

fn bad_percent_zz(p: &Probe) -> Result<String, String> {
    json_error(
        exchange(p, b"GET /kv/ab%ZZcd HTTP/1.1\r\nhost: x\r\n\r\n")?,
        400,
        "bad_key",
    )
}

fn bad_percent_cut(p: &Probe) -> Result<String, String> {
    json_error(
        exchange(
            p,
            b"PUT /kv/ab%4 HTTP/1.1\r\nhost: x\r\ncontent-length: 1\r\n\r\nv",
        )?,
        400,
        "bad_key",
    )
}

fn bad_percent_query(p: &Probe) -> Result<String, String> {
    json_error(
        exchange(p, b"GET /kv?prefix=%G0 HTTP/1.1\r\nhost: x\r\n\r\n")?,
        400,
        "bad_parameter",
    )
}

fn raw_non_ascii_path(p: &Probe) -> Result<String, String> {
    status_or_close(
        exchange(p, b"GET /kv/\xff\xfe HTTP/1.1\r\nhost: x\r\n\r\n")?,
        &[400],
    )
}

fn nul_in_header(p: &Probe) -> Result<String, String> {
    status_or_close(
        exchange(p, b"GET /health HTTP/1.1\r\nhost: x\r\nx-a: a\0b\r\n\r\n")?,
        &[400],
    )
}

fn conflicting_lengths(p: &Probe) -> Result<String, String> {
    status_or_close(
        exchange(
            p,
            b"PUT /kv/soak-malformed/cl HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\nhello!",
        )?,
        &[400],
    )
}

fn negative_length(p: &Probe) -> Result<String, String> {
    status_or_close(
        exchange(
            p,
            b"PUT /kv/soak-malformed/neg HTTP/1.1\r\nhost: x\r\ncontent-length: -1\r\n\r\n",
        )?,
        &[400],
    )
}

/// RFC 9112 lets a server refuse this or follow the chunked framing and
/// close the connection afterwards; smuggling needs it to do neither.
fn length_and_chunked(p: &Probe) -> Result<String, String> {
    let seen = exchange(
        p,
        b"PUT /kv/soak-malformed/te HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    )?;
    match seen {
        Seen::Answer(r) if r.status == 204 && r.closes() => {
            Ok("204 by the chunked framing, then closed".into())
        }
        other => status_or_close(other, &[400]),
    }
}

fn bad_chunk_size(p: &Probe) -> Result<String, String> {
    status_or_close(
        exchange(
            p,
            b"PUT /kv/soak-malformed/chunk HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
        )?,
        &[400],
    )
}

fn truncated_json_batch(p: &Probe) -> Result<String, String> {
    let body = br#"{"ops": [{"op": "put", "key": "soak-malformed/b", "val"#;
    let mut request = format!(
        "POST /batch HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    let outcome = json_error(exchange(p, &request)?, 400, "bad_json")?;
    still_absent(p, "soak-malformed/b")?;
    Ok(outcome)
}

fn garbage_bytes(p: &Probe) -> Result<String, String> {
    let mut rng = StdRng::seed_from_u64(p.seed);
    let garbage: Vec<u8> = (0..4096).map(|_| rng.random::<u8>()).collect();
    client_error_or_close(exchange(p, &garbage)?)
}

fn http2_preface(p: &Probe) -> Result<String, String> {
    client_error_or_close(exchange(p, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")?)
}

/// Requires the connection to close unanswered after the header timeout
/// (not before 90 % of it, not long after).
fn closed_by_header_timeout(
    p: &Probe,
    stream: &TcpStream,
    started: Instant,
) -> Result<String, String> {
    let left = (p.header_timeout + SLACK).saturating_sub(started.elapsed());
    let seen = wait(stream, left);
    let took = started.elapsed();
    match seen {
        Seen::Closed if took >= p.header_timeout.mul_f64(0.9) => {
            Ok(format!("closed after {took:.1?}"))
        }
        Seen::Closed => Err(format!(
            "closed after {took:.1?}, before the header timeout"
        )),
        Seen::Answer(r) => Err(format!("answered {}: {}", r.status, r.excerpt(120))),
        Seen::Open => Err(format!("still open after {took:.1?}")),
    }
}

fn idle_connection(p: &Probe) -> Result<String, String> {
    let started = Instant::now();
    let stream = connect(p)?;
    closed_by_header_timeout(p, &stream, started)
}

fn slowloris(p: &Probe) -> Result<String, String> {
    let started = Instant::now();
    let mut stream = connect(p)?;
    let _ = stream.write_all(b"GET /health HTTP/1.1\r\nhost: x\r\n");
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .map_err(|e| e.to_string())?;
    let mut buf = [0u8; 512];
    for &b in b"x-slow: ".iter().cycle() {
        if started.elapsed() > p.header_timeout + SLACK {
            return Err(format!("still open after {:.1?}", started.elapsed()));
        }
        if stream.write_all(&[b]).is_err() {
            break; // closed
        }
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                return Err(format!(
                    "answered: {:?}",
                    String::from_utf8_lossy(buf.get(..n).unwrap_or_default())
                ));
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => break, // reset
        }
    }
    let took = started.elapsed();
    if took < p.header_timeout.mul_f64(0.9) {
        return Err(format!(
            "closed after {took:.1?}, before the header timeout"
        ));
    }
    Ok(format!("closed after {took:.1?}"))
}

fn slowloris_crowd(p: &Probe) -> Result<String, String> {
    let started = Instant::now();
    let mut crowd = Vec::with_capacity(50);
    for _ in 0..50 {
        let mut stream = connect(p)?;
        let _ = stream.write_all(b"GET /health HTTP/1.1\r\nhost: x\r\nx-slow: 1");
        crowd.push(stream);
    }
    // Others are served meanwhile, and promptly.
    for _ in 0..3 {
        let asked = Instant::now();
        let mut conn = Conn::connect(p.addr, ANSWER_WITHIN).map_err(|e| e.to_string())?;
        let r = conn
            .send("GET", "/health", &[], b"")
            .map_err(|e| format!("GET /health among the crowd: {e}"))?;
        if r.status != 200 || asked.elapsed() > Duration::from_secs(1) {
            return Err(format!(
                "GET /health among the crowd: {} after {:.1?}",
                r.status,
                asked.elapsed()
            ));
        }
    }
    let mut last = String::new();
    for stream in &crowd {
        last = closed_by_header_timeout(p, stream, started)?;
    }
    Ok(format!("all 50 {last}; /health served meanwhile"))
}

fn never_reads(p: &Probe) -> Result<String, String> {
    let size = p.max_body_bytes.min(1 << 20);
    let requests = 64;
    let mut conn = Conn::connect(p.addr, ANSWER_WITHIN).map_err(|e| e.to_string())?;
    let r = conn
        .send("PUT", "/kv/soak-malformed/big", &[], &vec![b'b'; size])
        .map_err(|e| e.to_string())?;
    if r.status != 204 {
        return Err(format!("storing the big value: {}", r.status));
    }
    drop(conn);
    let mut stream = connect(p)?;
    let request = b"GET /kv/soak-malformed/big HTTP/1.1\r\nhost: x\r\n\r\n".repeat(requests);
    stream.write_all(&request).map_err(|e| e.to_string())?;
    // Not reading: the server's writes block, then time out.
    std::thread::sleep(p.stall_timeout + Duration::from_secs(1));
    stream
        .set_read_timeout(Some(SLACK))
        .map_err(|e| e.to_string())?;
    let mut received = 0usize;
    let mut buf = vec![0u8; 1 << 20];
    let deadline = Instant::now() + SLACK;
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => received += n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Err(format!("still open after {received} bytes"));
            }
            Err(_) => break,
        }
        if Instant::now() > deadline {
            return Err(format!("still sending after {received} bytes"));
        }
    }
    if received >= size * requests {
        return Err(format!(
            "all {requests} answers arrived ({received} bytes): the writes never stalled"
        ));
    }
    Ok(format!(
        "dropped after {} of {requests} answers",
        received / size.max(1)
    ))
}
