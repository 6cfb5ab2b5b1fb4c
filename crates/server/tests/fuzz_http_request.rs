//! Runs the `http_request` fuzz body (requests through the whole router)
//! over the checked-in seed corpus and over deterministic random and
//! mutated inputs; `generate_http_request_seeds` (ignored) rewrites the
//! seeds in `fuzz/corpus/http_request/`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use strata_server::fuzzing::{self, SEPARATOR};

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fuzz/corpus/http_request"
);

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// An input: the flags byte and the requests, separated.
fn input(flags: u8, requests: &[&str]) -> Vec<u8> {
    let mut out = vec![flags];
    for (i, r) in requests.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(SEPARATOR);
        }
        out.extend_from_slice(r.as_bytes());
    }
    out
}

/// The seed files: name -> input.
fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        (
            "kv",
            input(
                0,
                &[
                    "PUT /kv/user%3A1%FF?ttl=30s\nContent-Type: text/plain\n\nada",
                    "GET /kv/user%3A1%FF\n\n",
                    "DELETE /kv/text\n\n",
                    "GET /kv?prefix=user&limit=2&values=true\n\n",
                ],
            ),
        ),
        (
            "batch",
            input(
                0,
                &[
                    "POST /batch\nContent-Type: application/json\n\n{\"ops\": [\
                     {\"op\": \"put\", \"key\": \"a\", \"value\": \"1\", \"ttl\": \"1h\", \"content_type\": \"text/plain\"},\
                     {\"op\": \"put\", \"key\": \"/w==\", \"key_encoding\": \"base64\", \"value\": \"AAE=\", \"value_encoding\": \"base64\", \"ttl\": 60000},\
                     {\"op\": \"delete\", \"key\": \"n\"}]}",
                    "POST /batch\n\n{\"ops\": [{\"op\": \"put\", \"key\": \"\", \"value\": \"x\"}]}",
                    "POST /batch\n\n{\"ops\": [{\"op\": \"merge\"}]}",
                    "GET /kv/a\n\n",
                ],
            ),
        ),
        (
            "token",
            input(
                1,
                &[
                    "GET /kv/n\nAuthorization: Bearer s3cret\n\n",
                    "GET /health\n\n",
                    "GET /\n\n",
                    "POST /seq/n?by=2\nCookie: a=1; strata_token=s3cre%74\n\n",
                ],
            ),
        ),
        (
            "seq-and-methods",
            input(
                0,
                &[
                    "POST /seq/n?by=5\n\n",
                    "POST /seq/max\n\n",
                    "GET /seq/seq/x\n\n",
                    "PATCH /kv/n\n\n",
                ],
            ),
        ),
        (
            "listing-and-admin",
            input(
                0,
                &[
                    "GET /kv?limit=1&cursor=Zm4\n\n",
                    "GET /kv?reverse&start=a&end=z&cursor=cnR0bA\n\n",
                    "POST /admin/compact?start=a&end=n\n\n",
                    "GET /admin/stats\n\n",
                ],
            ),
        ),
        (
            "limits-and-shutdown",
            input(
                2 | 4 | 8,
                &[
                    "PUT /kv/aaaaaaaaaaaaaaaaaaaaaaaaa\n\nx",
                    "GET /kv/n\n\n",
                    "POST /admin/flush\n\n",
                ],
            ),
        ),
    ]
}

#[test]
#[ignore = "rewrites the checked-in seed corpus"]
fn generate_http_request_seeds() {
    std::fs::create_dir_all(CORPUS).unwrap();
    for (name, bytes) in seeds() {
        std::fs::write(PathBuf::from(CORPUS).join(format!("seed-{name}")), bytes).unwrap();
    }
}

#[test]
fn seeds_run_clean() {
    for (_, bytes) in seeds() {
        fuzzing::http_request(&bytes);
    }
}

/// Bytes a mutation splices in: pieces of the request language.
const PIECES: &[&str] = &[
    "%",
    "%F",
    "%FF",
    "%zz",
    "+",
    "&",
    "=",
    "?",
    "/",
    "\n",
    "\n\n",
    ": ",
    "ttl=",
    "ttl=0",
    "limit=",
    "cursor=",
    "reverse",
    "by=",
    "-",
    "9999999999999999999",
    "prefix=%FF%FF",
    "\"",
    "{",
    "}",
    "[",
    "]",
    "\\u0000",
    "Bearer ",
    "GET ",
    "PUT ",
    "/kv/",
    "/seq/",
    "/batch",
];

#[test]
fn fuzz_body_survives_corpus_and_mutations() {
    let mut inputs: Vec<Vec<u8>> = seeds().into_iter().map(|(_, b)| b).collect();
    if let Ok(entries) = std::fs::read_dir(CORPUS) {
        let mut paths: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
        paths.sort();
        for path in paths {
            let bytes = std::fs::read(&path).unwrap();
            eprintln!("{}", path.display());
            fuzzing::http_request(&bytes);
            inputs.push(bytes);
        }
    }
    let mut rng = Rng(0x5eed_4771_abcd_0003);
    for i in 0..3000 {
        let mut bytes = inputs[i % inputs.len()].clone();
        match rng.below(4) {
            0 => {
                for _ in 0..=rng.below(4) {
                    if !bytes.is_empty() {
                        let at = rng.below(bytes.len());
                        bytes[at] ^= 1 << rng.below(8);
                    }
                }
            }
            1 => bytes.truncate(rng.below(bytes.len() + 1)),
            2 => {
                let at = rng.below(bytes.len() + 1);
                let piece = PIECES[rng.below(PIECES.len())].as_bytes();
                bytes.splice(at..at, piece.iter().copied());
            }
            _ => bytes = (0..rng.below(64)).map(|_| rng.next() as u8).collect(),
        }
        fuzzing::http_request(&bytes);
    }
}
