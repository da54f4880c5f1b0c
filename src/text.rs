//! Text arithmetic shared by the SQL functions and the match model: the words of a text and
//! the Jaccard similarity of two word sets. A leaf: it imports nothing of c360.

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
