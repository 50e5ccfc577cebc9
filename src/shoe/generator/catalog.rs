//! The word lists shoes are built from: real running and sneaker brands, each with model lines it
//! actually sells, plus version numbers and edition suffixes.
//!
//! Everything is `&'static str`, so building a shoe copies a few bytes into reused buffers and never
//! formats or allocates. Changing any list changes the generated sequence for every seed: the golden
//! vector in `testdata/generator_seed42.txt` will say so, and must be updated on purpose.

/// A brand and the model lines it sells.
pub(super) struct Brand {
    pub name: &'static str,
    pub lines: &'static [&'static str],
}

pub(super) const BRANDS: &[Brand] = &[
    Brand {
        name: "Nike",
        lines: &[
            "Pegasus",
            "Vomero",
            "Invincible Run",
            "Vaporfly",
            "Alphafly",
            "Structure",
            "Zoom Fly",
            "Pegasus Trail",
        ],
    },
    Brand {
        name: "Adidas",
        lines: &[
            "Adizero Boston",
            "Adizero Adios Pro",
            "Adizero SL",
            "Ultraboost",
            "Supernova Rise",
            "Terrex Agravic",
        ],
    },
    Brand {
        name: "ASICS",
        lines: &[
            "Gel-Kayano",
            "Gel-Nimbus",
            "Gel-Cumulus",
            "Novablast",
            "Superblast",
            "GT-2000",
            "Metaspeed Sky",
            "Trabuco",
        ],
    },
    Brand {
        name: "Brooks",
        lines: &[
            "Ghost",
            "Glycerin",
            "Adrenaline GTS",
            "Hyperion",
            "Launch",
            "Caldera",
            "Cascadia",
        ],
    },
    Brand {
        name: "Hoka",
        lines: &[
            "Clifton",
            "Bondi",
            "Mach",
            "Arahi",
            "Speedgoat",
            "Rocket X",
            "Challenger",
        ],
    },
    Brand {
        name: "New Balance",
        lines: &[
            "Fresh Foam X 1080",
            "Fresh Foam X More",
            "FuelCell Rebel",
            "FuelCell SC Elite",
            "FuelCell Propel",
            "Fresh Foam X Hierro",
        ],
    },
    Brand {
        name: "Saucony",
        lines: &[
            "Endorphin Speed",
            "Endorphin Pro",
            "Kinvara",
            "Triumph",
            "Ride",
            "Guide",
            "Peregrine",
        ],
    },
    Brand {
        name: "On",
        lines: &[
            "Cloudmonster",
            "Cloudsurfer",
            "Cloudflow",
            "Cloudboom Echo",
            "Cloudrunner",
            "Cloudultra",
        ],
    },
    Brand {
        name: "Mizuno",
        lines: &[
            "Wave Rider",
            "Wave Inspire",
            "Wave Sky",
            "Wave Rebellion Pro",
            "Neo Vista",
        ],
    },
    Brand {
        name: "Puma",
        lines: &[
            "Deviate Nitro",
            "Velocity Nitro",
            "Magnify Nitro",
            "ForeverRun Nitro",
            "Fast-R Nitro Elite",
        ],
    },
    Brand {
        name: "Salomon",
        lines: &[
            "Speedcross",
            "Sense Ride",
            "S/Lab Phantasm",
            "Aero Glide",
            "Ultra Glide",
        ],
    },
    Brand {
        name: "Altra",
        lines: &[
            "Torin",
            "Lone Peak",
            "Escalante",
            "Via Olympus",
            "Experience Flow",
        ],
    },
    Brand {
        name: "Under Armour",
        lines: &["HOVR Machina", "Velociti Elite", "Infinite Elite"],
    },
    Brand {
        name: "Reebok",
        lines: &["Floatride Energy", "Nano X", "Club C"],
    },
];

/// Model generations, `1` to `14`, as text so naming a shoe needs no number formatting.
pub(super) const VERSIONS: &[&str] = &[
    "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14",
];

/// Edition suffixes appended to the name; the empty entries make plain models the most common.
pub(super) const EDITIONS: &[&str] = &[
    "", "", "", "", "", "", "", "", " GTX", " Wide", " Trail", " Premium", " SE", " Elite",
];
