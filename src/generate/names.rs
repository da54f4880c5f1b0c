//! Vocabulary of the sample data: first names and surnames with a real population's
//! frequencies (the Census tables in [`super::census`], a long tail of rare made-up surnames),
//! nicknames, places, and the typing errors people make.

use rand::Rng;
use rand_pcg::Pcg64Mcg;

use super::census;

/// First names with the nicknames people use for them in other systems (a name drawn from the
/// Census tables takes its nicknames from here).
pub const FIRST_NAMES: &[(&str, &[&str])] = &[
    ("Robert", &["Bob", "Rob", "Bobby"]),
    ("William", &["Bill", "Will", "Liam"]),
    ("James", &["Jim", "Jimmy", "Jamie"]),
    ("John", &["Johnny", "Jack"]),
    ("Michael", &["Mike", "Mickey"]),
    ("David", &["Dave", "Davey"]),
    ("Richard", &["Rick", "Dick", "Rich"]),
    ("Joseph", &["Joe", "Joey"]),
    ("Thomas", &["Tom", "Tommy"]),
    ("Charles", &["Charlie", "Chuck"]),
    ("Christopher", &["Chris", "Topher"]),
    ("Daniel", &["Dan", "Danny"]),
    ("Matthew", &["Matt"]),
    ("Anthony", &["Tony"]),
    ("Steven", &["Steve"]),
    ("Andrew", &["Andy", "Drew"]),
    ("Joshua", &["Josh"]),
    ("Edward", &["Ed", "Eddie", "Ted"]),
    ("Benjamin", &["Ben", "Benny"]),
    ("Samuel", &["Sam", "Sammy"]),
    ("Alexander", &["Alex", "Xander"]),
    ("Nicholas", &["Nick", "Nicky"]),
    ("Jonathan", &["Jon"]),
    ("Patrick", &["Pat", "Paddy"]),
    ("Peter", &["Pete"]),
    ("Kevin", &[]),
    ("Brian", &[]),
    ("Jose", &["Pepe"]),
    ("Mohammed", &["Mo"]),
    ("Wei", &[]),
    ("Elizabeth", &["Liz", "Beth", "Betty", "Eliza"]),
    ("Katherine", &["Kate", "Kathy", "Katie"]),
    ("Margaret", &["Maggie", "Peggy", "Meg"]),
    ("Jennifer", &["Jen", "Jenny"]),
    ("Patricia", &["Pat", "Patty", "Trish"]),
    ("Susan", &["Sue", "Susie"]),
    ("Jessica", &["Jess", "Jessie"]),
    ("Sarah", &["Sally"]),
    ("Rebecca", &["Becky", "Becca"]),
    ("Deborah", &["Deb", "Debbie"]),
    ("Victoria", &["Vicky", "Tori"]),
    ("Christine", &["Chris", "Chrissy"]),
    ("Abigail", &["Abby"]),
    ("Samantha", &["Sam", "Sammie"]),
    ("Alexandra", &["Alex", "Sasha"]),
    ("Jacqueline", &["Jackie"]),
    ("Emily", &["Em"]),
    ("Olivia", &["Liv"]),
    ("Sophia", &["Sophie"]),
    ("Isabella", &["Bella", "Izzy"]),
    ("Mary", &["Molly", "Polly"]),
    ("Linda", &[]),
    ("Karen", &[]),
    ("Nancy", &[]),
    ("Maria", &[]),
    ("Ana", &[]),
    ("Zoe", &[]),
    ("Chloe", &[]),
    ("Hannah", &[]),
    ("Mei", &[]),
    ("José", &[]),
    ("Zoë", &[]),
    ("Renée", &["Rene"]),
    ("Donald", &["Don", "Donny"]),
    ("Ronald", &["Ron", "Ronnie"]),
    ("Lawrence", &["Larry"]),
    ("Gregory", &["Greg"]),
    ("Henry", &["Hank", "Harry"]),
    ("Walter", &["Walt"]),
    ("Frederick", &["Fred", "Freddie"]),
    ("Jacob", &["Jake"]),
    ("Nathan", &["Nate"]),
    ("Leonard", &["Len", "Lenny"]),
];

/// Surnames with an apostrophe, a prefix or a letter outside ASCII, which the Census tables
/// spell without (O'Brien is OBRIEN there): 1 % of people carry one.
const MARKED_SURNAMES: &[&str] = &[
    "O'Brien",
    "O'Connor",
    "O'Neill",
    "D'Angelo",
    "McDonald",
    "Müller",
    "Schröder",
    "Löwe",
    "Núñez",
    "García",
];

const SYLLABLES_START: &[&str] = &[
    "Wojcie", "Kowal", "Brandt", "Fitz", "Vander", "Ost", "Hol", "Ama", "Okon", "Deluc", "Mar",
    "Sorren", "Lind", "Quist", "Abernat", "Castel", "Bjorn", "Nakam", "Petro", "Yilma", "Thal",
    "Gudmun", "Ivan", "Kasprz", "Mbek", "Oyel", "Rasmu", "Szym", "Tamb", "Uhl",
];
const SYLLABLES_MIDDLE: &[&str] = &[
    "", "a", "e", "i", "o", "u", "er", "an", "el", "ov", "ar", "is", "ud", "en", "am", "ol", "ib",
    "ak", "et", "ur",
];
const SYLLABLES_END: &[&str] = &[
    "chowski", "czyk", "stein", "gerald", "berg", "rom", "lander", "kwe", "ji", "a", "tinez",
    "sen", "quist", "hy", "lano", "son", "ura", "vic", "z", "ford", "dottir", "enko", "ides",
    "oglu", "ani", "ez", "mann", "wala", "ov", "ssen",
];

/// US places: (city, state, first three ZIP digits, area codes).
pub const PLACES: &[(&str, &str, u32, &[u32])] = &[
    ("New York", "NY", 100, &[212, 646, 917]),
    ("Brooklyn", "NY", 112, &[718, 347]),
    ("Los Angeles", "CA", 900, &[213, 310, 323]),
    ("San Francisco", "CA", 941, &[415, 628]),
    ("San Diego", "CA", 921, &[619, 858]),
    ("Chicago", "IL", 606, &[312, 773]),
    ("Houston", "TX", 770, &[713, 832]),
    ("Austin", "TX", 787, &[512, 737]),
    ("Dallas", "TX", 752, &[214, 469]),
    ("Phoenix", "AZ", 850, &[602, 480]),
    ("Philadelphia", "PA", 191, &[215, 267]),
    ("Seattle", "WA", 981, &[206, 253]),
    ("Portland", "OR", 972, &[503, 971]),
    ("Denver", "CO", 802, &[303, 720]),
    ("Boston", "MA", 21, &[617, 857]),
    ("Atlanta", "GA", 303, &[404, 678]),
    ("Miami", "FL", 331, &[305, 786]),
    ("Minneapolis", "MN", 554, &[612, 952]),
    ("Nashville", "TN", 372, &[615, 629]),
    ("St. Louis", "MO", 631, &[314, 636]),
];

/// Free e-mail providers and their weight.
pub const EMAIL_DOMAINS: &[(&str, u32)] = &[
    ("gmail.com", 45),
    ("yahoo.com", 15),
    ("outlook.com", 12),
    ("hotmail.com", 8),
    ("icloud.com", 10),
    ("aol.com", 3),
    ("comcast.net", 4),
    ("protonmail.com", 3),
];

/// Pick an index with the given weights.
pub fn weighted<T>(rng: &mut Pcg64Mcg, items: &[(T, u32)]) -> usize {
    let total: u32 = items.iter().map(|(_, w)| *w).sum();
    let mut roll = rng.random_range(0..total);
    for (i, (_, w)) in items.iter().enumerate() {
        if roll < *w {
            return i;
        }
        roll -= w;
    }
    items.len() - 1
}

/// A surname drawn as in a real population: the Census's 30,000 most common ones with their
/// frequencies (81.7 % of people), 1 % with an apostrophe or accent, and the rest from a
/// long tail of rare names made up from syllables (18,000 of them, as rare as real ones).
pub fn surname(rng: &mut Pcg64Mcg) -> String {
    let roll = rng.random::<f64>();
    if roll < 0.817 {
        census::surnames().draw(rng).to_string()
    } else if roll < 0.827 {
        MARKED_SURNAMES[rng.random_range(0..MARKED_SURNAMES.len())].to_string()
    } else {
        let a = SYLLABLES_START[rng.random_range(0..SYLLABLES_START.len())];
        let b = SYLLABLES_MIDDLE[rng.random_range(0..SYLLABLES_MIDDLE.len())];
        let c = SYLLABLES_END[rng.random_range(0..SYLLABLES_END.len())];
        format!("{a}{b}{c}")
    }
}

/// A first name and its nicknames: from the Census tables of the person's sex with their real
/// frequencies, and one time in ten from the names above (accents, names from elsewhere).
pub fn first_name(rng: &mut Pcg64Mcg) -> (&'static str, &'static [&'static str]) {
    if rng.random_bool(0.1) {
        return FIRST_NAMES[rng.random_range(0..FIRST_NAMES.len())];
    }
    let name = if rng.random_bool(0.5) {
        census::female_first_names().draw(rng)
    } else {
        census::male_first_names().draw(rng)
    };
    let nicknames = FIRST_NAMES
        .iter()
        .find(|(full, _)| *full == name)
        .map_or(&[][..], |(_, nicknames)| *nicknames);
    (name, nicknames)
}

/// One typing error: a dropped, doubled, swapped or replaced letter.
pub fn typo(rng: &mut Pcg64Mcg, text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    if chars.len() < 3 {
        return text.to_string();
    }
    let i = rng.random_range(1..chars.len() - 1);
    match rng.random_range(0..4) {
        0 => {
            chars.remove(i);
        }
        1 => chars.insert(i, chars[i]),
        2 => chars.swap(i, i + 1),
        _ => {
            let keys = "aeiounrstlm";
            let c = keys.as_bytes()[rng.random_range(0..keys.len())] as char;
            chars[i] = c;
        }
    }
    chars.into_iter().collect()
}

/// Lowercase ASCII letters of a name, for e-mail local parts (`O'Brien` -> `obrien`).
pub fn email_part(name: &str) -> String {
    name.chars()
        .filter_map(|c| match c {
            'é' | 'è' | 'ë' => Some('e'),
            'ü' | 'ú' => Some('u'),
            'ö' => Some('o'),
            'á' => Some('a'),
            'í' => Some('i'),
            'ñ' => Some('n'),
            c if c.is_ascii_alphabetic() => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}
