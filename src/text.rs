//! Text arithmetic shared by the SQL functions, the match model and the pipeline: the words
//! of a text, the Jaccard similarity of two word sets, an MD5 digest as hex. A leaf: it
//! imports nothing of c360.

use std::collections::BTreeSet;

/// Lowercased words (runs of letters and digits), deduplicated and sorted.
pub fn words(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Jaccard similarity of the word sets of `a` and `b`; `None` when neither has a word.
pub fn jaccard(a: &str, b: &str) -> Option<f64> {
    let (a, b) = (words(a), words(b));
    let union = a.union(&b).count();
    (union > 0).then(|| a.intersection(&b).count() as f64 / union as f64)
}

/// MD5 as lowercase hex, as SQL's md5() prints it.
pub fn md5_hex(bytes: &[u8]) -> String {
    use md5::{Digest, Md5};
    Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
