//! Words for demo people, companies and cases.

pub const FIRST: &[&str] = &[
    "Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jon", "Keiko", "Liam", "Maya", "Nikhil",
    "Olga", "Pablo", "Quinn", "Rosa", "Sam", "Tariq", "Uma", "Victor", "Wen", "Ximena", "Yusuf", "Zoe", "Anika",
    "Bruno", "Carmen", "Dmitri",
];
pub const LAST: &[&str] = &[
    "Adams", "Baker", "Chen", "Diaz", "Evans", "Fischer", "Garcia", "Hughes", "Ito", "Jensen", "Kaur", "Lopez",
    "Meyer", "Novak", "Okafor", "Patel", "Quint", "Rossi", "Silva", "Tanaka", "Urban", "Varga", "Weber", "Xu", "Young",
    "Zhang",
];
pub const COMPANY_A: &[&str] = &[
    "Blue",
    "North",
    "Silver",
    "Bright",
    "Cedar",
    "Harbor",
    "Summit",
    "Iron",
    "Maple",
    "Coral",
    "Granite",
    "Lumen",
    "Atlas",
    "Nova",
    "Pioneer",
    "Riverside",
    "Sterling",
    "Willow",
    "Vertex",
    "Orchid",
];
pub const COMPANY_B: &[&str] = &[
    "Logistics",
    "Foods",
    "Health",
    "Labs",
    "Retail",
    "Energy",
    "Media",
    "Bank",
    "Travel",
    "Robotics",
    "Pharma",
    "Studios",
    "Analytics",
    "Freight",
    "Clinics",
    "Outdoor",
    "Insurance",
    "Systems",
];

/// (case type, subjects, opening messages)
pub const TOPICS: &[(&str, &[&str], &[&str])] = &[
    (
        "question",
        &[
            "How do I export my reports?",
            "Can we add more users?",
            "Where is the audit log?",
            "Question about data retention",
            "How do I change my plan?",
        ],
        &[
            "Hi, we could not find how to do this in the documentation. Could you point us in the right direction?",
            "Quick question from our team — is this possible, and if so how?",
        ],
    ),
    (
        "incident",
        &[
            "Dashboard does not load",
            "Error 500 when saving",
            "Sync stopped overnight",
            "Emails not arriving",
            "Login page times out",
        ],
        &[
            "Since this morning our team cannot work: the page shows an error. This is urgent for us.",
            "We see failures for several users. Screenshots attached in our internal ticket; please help.",
        ],
    ),
    (
        "problem",
        &["Recurring timeouts every Monday", "Slow search on large projects", "Duplicate records after import"],
        &[
            "This keeps happening and we would like a root cause, not just a workaround.",
            "We have seen this three times this month. Can you investigate?",
        ],
    ),
    (
        "billing",
        &[
            "Invoice amount looks wrong",
            "Please update our VAT number",
            "Charged twice this month",
            "Request for a refund",
        ],
        &[
            "Our finance team noticed a problem with the latest invoice. Can you check?",
            "Please correct our billing details before the next invoice.",
        ],
    ),
    (
        "access",
        &["Locked out of my account", "SSO login fails for new hires", "Need admin rights for a colleague"],
        &[
            "I cannot log in anymore and have a deadline today.",
            "Our new colleagues cannot get in through single sign-on.",
        ],
    ),
    (
        "feature_request",
        &["Please add a dark mode", "API for bulk updates", "Export to spreadsheet"],
        &[
            "It would help us a lot if the product could do this. Is it planned?",
            "Several of our users asked for this.",
        ],
    ),
];

pub const AGENT_QUESTIONS: &[&str] = &[
    "Thanks for reaching out. Could you tell us which browser and version you use?",
    "Thank you — can you send us the exact time it happened and the account affected?",
    "Happy to help. Could you confirm the invoice number you are referring to?",
];
pub const CUSTOMER_ANSWERS: &[&str] = &[
    "Sure — it happened around 9:40 this morning, on the main account.",
    "Chrome 131 on Windows. It also happens for my colleague.",
    "It is invoice 2024-1187. Thanks for looking into it.",
];
pub const AGENT_FIXES: &[&str] = &[
    "We found the cause and fixed it on our side. Everything should work again — please let us know if not.",
    "Here is how to do it: open Settings, then Exports, and choose the format you need. I have also sent you the guide.",
    "We corrected the invoice and issued a credit note. You will receive it by email today.",
    "I have reset the access for your account; you can log in again now.",
];
pub const NOTES: &[&str] = &[
    "Checked the logs: matches the known issue from last week.",
    "Customer is a key account — keep them updated closely.",
    "Second time this month for this account.",
];
pub const REOPENS: &[&str] = &[
    "Unfortunately it happened again this morning.",
    "Thanks, but this did not solve it for us.",
    "One more question on the same topic.",
];
pub const IT_REQUESTS: &[(&str, &str)] = &[
    (
        "Reset SSO configuration for a customer",
        "The customer's SSO login fails; could you check the identity provider settings on our side?",
    ),
    (
        "Database restore needed",
        "A customer deleted records by mistake; can you restore them from last night's backup?",
    ),
    ("Mail delivery failing for a domain", "Our notifications to this customer bounce. Can you check the mail relay?"),
];
pub const IT_REPLIES: &[&str] = &[
    "Done — fixed on our side. Please ask the customer to try again.",
    "Restored from last night's backup; details in the log.",
];

pub const PRAISE: &[&str] = &[
    "Quick and friendly, thank you!",
    "Solved on the first try. Great service.",
    "Very helpful, explained everything clearly.",
    "Thanks for keeping me posted the whole time.",
];

pub const COMPLAINTS: &[&str] = &[
    "It took far too long to get an answer.",
    "I had to explain the problem twice.",
    "The issue came back the next day.",
    "Nobody told me what was happening.",
];
