"""Deterministic generator of ACME Support, the playbook's sample company.

ACME runs a support organisation with five queues. Two queues (Billing, Logistics) got
AI-assisted triage on ``LAUNCH``; the other three are untreated controls. Every defect and
effect planted here is written, with its exact size, to ``TRUTH.yaml`` so tests can check
that the notebooks find exactly what was planted.

The same seed gives the same files, byte for byte for the CSV and Markdown files and cell for
cell for the Excel workbook.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from pilot2prod.sample_company.text import KB_TOPICS, add_typos, ticket_text

SEED = 20_241_104
START = pd.Timestamp("2024-11-04")  # a Monday
EXPORT = pd.Timestamp("2026-11-02")  # export taken at midnight; 104 weeks of history
LAUNCH = pd.Timestamp("2026-03-02")  # AI-assisted triage goes live in the treated queues
N_TICKETS = 25_000
BASELINE_WEEKS = 8  # the Chapter 1 default: the 8 weeks before the launch

CATEGORIES: dict[str, dict] = {
    # category: team, share of tickets, median hours to resolve at normal priority
    "billing_question": {"team": "Billing", "share": 0.14, "median_hours": 14.0},
    "refund_request": {"team": "Billing", "share": 0.09, "median_hours": 30.0},
    "login_problem": {"team": "Access", "share": 0.11, "median_hours": 6.0},
    "password_reset": {"team": "Access", "share": 0.13, "median_hours": 3.0},
    "shipping_delay": {"team": "Logistics", "share": 0.12, "median_hours": 40.0},
    "order_change": {"team": "Logistics", "share": 0.09, "median_hours": 10.0},
    "technical_bug": {"team": "Technical", "share": 0.12, "median_hours": 60.0},
    "api_integration": {"team": "Technical", "share": 0.06, "median_hours": 45.0},
    "account_closure": {"team": "Accounts", "share": 0.08, "median_hours": 20.0},
    "data_privacy_request": {"team": "Accounts", "share": 0.06, "median_hours": 72.0},
}
TEAMS = ["Billing", "Access", "Logistics", "Technical", "Accounts"]
TEAM_SIZES = {"Billing": 12, "Access": 10, "Logistics": 12, "Technical": 9, "Accounts": 7}
TREATED_TEAMS = ["Billing", "Logistics"]
TREATMENT_MULTIPLIER = 0.80  # resolution time x0.80 in treated queues after the launch
PRIORITY = {"low": (0.20, 1.5), "normal": (0.55, 1.0), "high": (0.20, 0.6), "urgent": (0.05, 0.35)}
CHANNELS = {  # share, median minutes to first response
    "email": (0.45, 150.0),
    "web": (0.25, 180.0),
    "chat": (0.20, 3.0),
    "phone": (0.10, 1.0),
}
WEEKDAY_VOLUME = [1.25, 1.15, 1.10, 1.05, 0.95, 0.30, 0.25]
WEEKDAY_DURATION = [1.0, 1.0, 1.0, 1.05, 1.30, 1.50, 1.40]  # Friday and weekend tickets wait
MONTH_VOLUME = {12: 1.25, 1: 1.15, 7: 0.85, 8: 0.85}
MONTH_DURATION = {12: 1.15, 1: 1.10}
LOG_SIGMA = 1.0
COMPLEX_SHARE = 0.12  # tickets that wait on the customer or engineering
COMPLEX_MULTIPLIER = 6.0
AGENT_LOG_SD = 0.15
REOPEN_RATE = 0.06
REOPEN_RATE_TREATED_AFTER = 0.075  # a guardrail that the launch made slightly worse
CSAT_RESPONSE_RATE = 0.18
LABEL_NOISE_SHARE = 0.05
N_END_BEFORE_START = 15  # clock errors: resolved stamped before created
N_RESUBMITTED = 40  # customers who sent the same ticket twice (train/test near-duplicates)
PII_SIGNATURE_SHARE = 0.08
ORPHAN_TICKET_SHARE = 0.07  # tickets whose customer has no CRM account
N_CUSTOMERS = 4_000
AI_ACCEPT_PROBABILITY = {"Billing": 0.72, "Logistics": 0.46}
#: How much less often a team accepts a wrong suggestion than a correct one: Billing barely
#: tells them apart (over-reliance), Logistics distrusts every suggestion (under-reliance).
AI_WRONG_ACCEPT_FACTOR = {"Billing": 0.85, "Logistics": 0.3}
AI_SUGGESTION_ACCURACY = 0.86

FIRST_NAMES = [
    "Anna",
    "Ben",
    "Carla",
    "David",
    "Elif",
    "Farid",
    "Grace",
    "Hugo",
    "Ines",
    "Jonas",
    "Kemal",
    "Lena",
    "Marco",
    "Nadia",
    "Oscar",
    "Priya",
    "Quentin",
    "Rosa",
    "Sven",
    "Tara",
    "Umar",
    "Vera",
    "Wen",
    "Yusuf",
    "Zoe",
]
LAST_NAMES = [
    "Meyer",
    "Smith",
    "Rossi",
    "Novak",
    "Garcia",
    "Dubois",
    "Jansen",
    "Kowalski",
    "Larsen",
    "Okafor",
    "Silva",
    "Tanaka",
    "Weber",
    "Young",
    "Fischer",
    "Moreau",
]
COMPANY_WORDS = [
    "Nordic",
    "Blue",
    "Alpine",
    "Delta",
    "Vertex",
    "Harbor",
    "Summit",
    "Pioneer",
    "Atlas",
    "Cedar",
    "Orion",
    "Lumen",
    "Falcon",
    "Granite",
    "Maple",
    "Quantum",
]
COMPANY_KINDS = ["Logistics", "Retail", "Foods", "Systems", "Health", "Energy", "Media", "Labs"]
COMPANY_FORMS = ["GmbH", "Ltd", "AG", "BV", "SAS", "Inc", "Oy", "AB"]
COUNTRIES = ["DE", "GB", "FR", "NL", "SE", "IT", "ES", "PL", "FI", "AT"]
PHONE_PREFIX = {
    "DE": "+49 30 ",
    "GB": "+44 20 ",
    "FR": "+33 1 ",
    "NL": "+31 20 ",
    "SE": "+46 8 ",
    "IT": "+39 06 ",
    "ES": "+34 91 ",
    "PL": "+48 22 ",
    "FI": "+358 9 ",
    "AT": "+43 1 ",
}


@dataclass(frozen=True)
class GeneratedCompany:
    tickets: pd.DataFrame
    crm_accounts: pd.DataFrame
    crm_contacts: pd.DataFrame
    ai_usage: pd.DataFrame
    ai_model_log: pd.DataFrame
    ai_review_sample: pd.DataFrame
    kb_articles: dict[str, str]
    kb_gold: pd.DataFrame
    truth: dict
    production_window: pd.DataFrame | None = None


# Subscriber digits after the area code, and the digit they start with, for valid numbers.
PHONE_DIGITS = {
    "DE": (8, "2"),
    "GB": (8, "7"),
    "FR": (8, "4"),
    "NL": (7, "5"),
    "SE": (7, "5"),
    "IT": (8, "5"),
    "ES": (7, "5"),
    "PL": (7, "5"),
    "FI": (7, "5"),
    "AT": (7, "5"),
}


def _phone(country: str, rng: np.random.Generator) -> str:
    """A phone number that ``phonenumbers`` validates (planted personal data must be real)."""
    digits, first = PHONE_DIGITS[country]
    rest = "".join(str(d) for d in rng.integers(0, 10, size=digits - 1))
    return PHONE_PREFIX[country] + first + rest


def _person(rng: np.random.Generator) -> tuple[str, str]:
    first = FIRST_NAMES[rng.integers(len(FIRST_NAMES))]
    last = LAST_NAMES[rng.integers(len(LAST_NAMES))]
    return first, last


def _created_times(rng: np.random.Generator) -> pd.DatetimeIndex:
    days = pd.date_range(START, EXPORT - pd.Timedelta(days=1), freq="D")
    years = (days - START).days / 365.25
    weight = np.array(
        [
            WEEKDAY_VOLUME[d.weekday()] * MONTH_VOLUME.get(d.month, 1.0) * (1.15**y)
            for d, y in zip(days, years, strict=True)
        ]
    )
    counts = rng.multinomial(N_TICKETS, weight / weight.sum())
    day_of_ticket = np.repeat(days.values, counts)
    hour_weight = np.array(
        [1, 1, 1, 1, 1, 2, 4, 8, 14, 16, 15, 14, 12, 13, 14, 13, 11, 9, 6, 5, 4, 3, 2, 1],
        dtype=float,
    )
    hours = rng.choice(24, size=N_TICKETS, p=hour_weight / hour_weight.sum())
    seconds = hours * 3600 + rng.integers(0, 3600, size=N_TICKETS)
    created = pd.DatetimeIndex(day_of_ticket) + pd.to_timedelta(seconds, unit="s")
    return created.sort_values()


def generate(seed: int = SEED) -> GeneratedCompany:
    """Generate the whole sample company in memory (deterministic in ``seed``)."""
    rng = np.random.default_rng(seed)
    created = _created_times(rng)
    n = len(created)

    names = list(CATEGORIES)
    shares = np.array([CATEGORIES[c]["share"] for c in names])
    true_category = rng.choice(names, size=n, p=shares / shares.sum())

    agents_by_team = {
        team: [f"AG-{100 + 20 * i + j:03d}" for j in range(TEAM_SIZES[team])]
        for i, team in enumerate(TEAMS)
    }
    agent_effect = {
        agent: float(np.exp(rng.normal(0.0, AGENT_LOG_SD)))
        for team in TEAMS
        for agent in agents_by_team[team]
    }

    # Label noise: the recorded category (and so the queue that handled it) is wrong.
    n_noisy = round(LABEL_NOISE_SHARE * n)
    noisy_index = np.sort(rng.choice(n, size=n_noisy, replace=False))
    recorded_category = true_category.copy()
    for i in noisy_index:
        others = [c for c in names if c != true_category[i]]
        recorded_category[i] = others[rng.integers(len(others))]
    team = np.array([CATEGORIES[c]["team"] for c in recorded_category])
    agent = np.array([agents_by_team[t][rng.integers(TEAM_SIZES[t])] for t in team])

    prio_names = list(PRIORITY)
    priority = rng.choice(prio_names, size=n, p=[PRIORITY[p][0] for p in prio_names])
    chan_names = list(CHANNELS)
    channel = rng.choice(chan_names, size=n, p=[CHANNELS[c][0] for c in chan_names])

    weekday = created.day_of_week.to_numpy()
    month = created.month.to_numpy()
    treated = np.isin(team, TREATED_TEAMS) & (created >= LAUNCH)
    complex_ticket = rng.random(n) < COMPLEX_SHARE
    median_hours = (
        np.array([CATEGORIES[c]["median_hours"] for c in recorded_category])
        * np.array([PRIORITY[p][1] for p in priority])
        * np.array([WEEKDAY_DURATION[w] for w in weekday])
        * np.array([MONTH_DURATION.get(m, 1.0) for m in month])
        * np.array([agent_effect[a] for a in agent])
        * np.where(complex_ticket, COMPLEX_MULTIPLIER, 1.0)
        * np.where(treated, TREATMENT_MULTIPLIER, 1.0)
    )
    latent_hours = median_hours * np.exp(rng.normal(0.0, LOG_SIGMA, size=n))
    latent_hours = np.maximum(latent_hours, 0.05)

    first_minutes = np.array([CHANNELS[c][1] for c in channel]) * np.exp(
        rng.normal(0.0, 0.9, size=n)
    )
    first_minutes = np.where(weekday >= 5, first_minutes * 4.0, first_minutes)
    first_minutes = np.minimum(first_minutes, latent_hours * 60.0 * 0.8)

    created_s = created.round("s")
    resolved = created_s + pd.to_timedelta(np.round(latent_hours * 3600.0), unit="s")
    first_response = created_s + pd.to_timedelta(np.round(first_minutes * 60.0), unit="s")
    is_open = resolved >= EXPORT
    first_response = first_response.where(first_response < EXPORT)

    reopen_p = np.where(treated, REOPEN_RATE_TREATED_AFTER, REOPEN_RATE)
    reopened = (rng.random(n) < reopen_p) & ~is_open
    # CSAT: sparse, and worse for slow tickets.
    answered = (rng.random(n) < CSAT_RESPONSE_RATE) & ~is_open
    satisfaction = 4.6 - 0.45 * np.log1p(latent_hours / 24.0) - 0.8 * reopened
    csat_score = np.clip(np.round(satisfaction + rng.normal(0, 0.8, size=n)), 1, 5)
    csat = np.where(answered, csat_score, np.nan)

    # Customers: popularity is skewed; some customers have no CRM account.
    popularity = 1.0 / np.arange(1, N_CUSTOMERS + 1) ** 0.6
    customer_index = rng.choice(N_CUSTOMERS, size=n, p=popularity / popularity.sum())
    customer_ids = np.array([f"C-{i + 10001}" for i in range(N_CUSTOMERS)])
    ticket_customer = customer_ids[customer_index]
    ticket_count = np.bincount(customer_index, minlength=N_CUSTOMERS)
    orphan_order = rng.permutation(N_CUSTOMERS)
    orphan_customers: list[int] = []
    orphan_tickets = 0
    for c in orphan_order:
        if ticket_count[c] == 0 or ticket_count[c] > 40:
            continue
        if orphan_tickets + ticket_count[c] > ORPHAN_TICKET_SHARE * n:
            continue
        orphan_customers.append(int(c))
        orphan_tickets += int(ticket_count[c])
    orphan_set = set(orphan_customers)

    subjects, bodies = [], []
    signed_kind = np.full(n, "", dtype=object)  # personal data planted in the body, by kind
    for i in range(n):
        signature = ""
        if rng.random() < PII_SIGNATURE_SHARE:
            first, last = _person(rng)
            if rng.random() < 0.5:
                signature = f"-- {first} {last}, {first.lower()}.{last.lower()}@example-mail.com"
                signed_kind[i] = "email"
            else:
                signature = f"-- {first} {last}, tel. {_phone('DE', rng)}"
                signed_kind[i] = "phone"
        subject, body = ticket_text(str(true_category[i]), rng, signature)
        subjects.append(subject)
        bodies.append(body)

    # Resubmissions: a later ticket repeats an earlier one of the same customer word for word.
    later = rng.choice(np.arange(n // 2, n), size=N_RESUBMITTED, replace=False)
    resubmitted_pairs = []
    for j in np.sort(later):
        # The earlier ticket carries the same recorded label, so queues and durations hold.
        same_label = np.flatnonzero(recorded_category[: n // 2] == recorded_category[j])
        i = int(same_label[rng.integers(len(same_label))])
        subjects[j], bodies[j] = subjects[i], bodies[i]
        signed_kind[j] = signed_kind[i]
        ticket_customer[j] = ticket_customer[i]
        true_category[j] = true_category[i]
        resubmitted_pairs.append((i, int(j)))
    # Resubmissions copy customers, so count orphan tickets on the final assignment.
    orphan_tickets = int(np.isin(ticket_customer, customer_ids[orphan_customers]).sum())

    ticket_ids = np.array([f"T-{100001 + i}" for i in range(n)])
    resolved_out = resolved.where(~is_open)
    # Clock errors: a few resolved stamps land before creation.
    closed_positions = np.flatnonzero(~is_open & (created < LAUNCH - pd.Timedelta(days=30)))
    clock_errors = np.sort(rng.choice(closed_positions, size=N_END_BEFORE_START, replace=False))
    resolved_values = resolved_out.to_numpy().copy()
    for i in clock_errors:
        resolved_values[i] = (
            (created_s[i] - pd.Timedelta(hours=float(rng.uniform(1, 48))))
            .round("s")
            .to_datetime64()
        )

    def fmt(values) -> list[str]:
        stamps = pd.DatetimeIndex(values)
        return [("" if pd.isna(t) else t.strftime("%Y-%m-%d %H:%M:%S")) for t in stamps]

    tickets = pd.DataFrame(
        {
            "ticket_id": ticket_ids,
            "created_at": fmt(created_s),
            "first_response_at": fmt(first_response),
            "resolved_at": fmt(resolved_values),
            "channel": channel,
            "priority": priority,
            "category": recorded_category,
            "team": team,
            "agent_id": agent,
            "customer_id": ticket_customer,
            "subject": subjects,
            "body": bodies,
            "reopened": reopened.astype(int),
            "csat": pd.array(csat, dtype="Int64"),
        }
    )

    crm_accounts, crm_contacts, crm_truth = _crm(rng, customer_ids, orphan_set)
    kb_articles, kb_gold = _knowledge_base(rng)
    ai_usage, ai_truth = _ai_usage(rng, tickets, treated, true_category, names)
    # Its own random stream: everything generated before stays as it was.
    model_log, review, review_truth = _ai_review(
        np.random.default_rng(seed + 1), ai_usage, tickets, true_category
    )
    ai_truth = ai_truth | review_truth

    truth = _truth(
        tickets=tickets,
        created=created_s,
        latent_hours=latent_hours,
        is_open=is_open,
        clock_errors=clock_errors,
        noisy_index=noisy_index,
        resubmitted_pairs=resubmitted_pairs,
        signed_kind=signed_kind,
        orphan_tickets=orphan_tickets,
        orphan_customers=len(orphan_customers),
        agents_by_team=agents_by_team,
        crm_truth=crm_truth,
        ai_truth=ai_truth,
        n_kb=len(kb_articles),
        n_gold=len(kb_gold),
        seed=seed,
    )
    production, truth["production_window"] = _production_window(np.random.default_rng(seed + 2))
    return GeneratedCompany(
        tickets,
        crm_accounts,
        crm_contacts,
        ai_usage,
        model_log,
        review,
        kb_articles,
        kb_gold,
        truth,
        production,
    )


def _crm(
    rng: np.random.Generator, customer_ids: np.ndarray, orphans: set[int]
) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    rows = []
    for i, cid in enumerate(customer_ids):
        if i in orphans:
            continue
        country = COUNTRIES[rng.integers(len(COUNTRIES))]
        name = (
            f"{COMPANY_WORDS[rng.integers(len(COMPANY_WORDS))]} "
            f"{COMPANY_KINDS[rng.integers(len(COMPANY_KINDS))]} "
            f"{COMPANY_FORMS[rng.integers(len(COMPANY_FORMS))]}"
        )
        first, last = _person(rng)
        since = START - pd.Timedelta(days=int(rng.integers(30, 2500)))
        style = rng.integers(4)
        if style == 0:
            since_text = since.strftime("%Y-%m-%d")
        elif style == 1:
            since_text = since.strftime("%d/%m/%Y")
        elif style == 2:
            since_text = since.strftime("%B %d, %Y")
        else:
            since_text = since.strftime("%d.%m.%Y")
        rows.append(
            {
                "account_id": cid,
                "company_name": name,
                "contact_name": f"{first} {last}",
                "contact_email": (
                    f"{first.lower()}.{last.lower()}@{name.split()[0].lower()}.example"
                ),
                "contact_phone": _phone(country, rng),
                "country": country,
                "segment": ["SMB", "Mid-market", "Enterprise"][rng.choice(3, p=[0.6, 0.3, 0.1])],
                "customer_since": since_text,
                "annual_revenue_eur": float(np.round(np.exp(rng.normal(14, 1.2)), -3)),
                "employees": int(np.exp(rng.normal(4, 1.3))) + 1,
                "account_manager": f"AM-{rng.integers(1, 16):02d}",
            }
        )
    accounts = pd.DataFrame(rows)
    n = len(accounts)
    missing = {}
    for column, share in (
        ("annual_revenue_eur", 0.41),
        ("employees", 0.38),
        ("account_manager", 0.12),
    ):
        k = round(share * n)
        idx = rng.choice(n, size=k, replace=False)
        accounts[column] = accounts[column].astype(object)
        accounts.loc[idx, column] = None
        missing[column] = k
    # Near-duplicates: the same company entered again under a new id with a variant spelling.
    near = rng.choice(n, size=80, replace=False)
    dup_rows = accounts.iloc[near].copy()
    dup_rows["account_id"] = [f"C-{90001 + i}" for i in range(len(dup_rows))]
    dup_rows["company_name"] = [
        v.upper() if k % 2 == 0 else v.replace(" ", "  ") + "."
        for k, v in enumerate(dup_rows["company_name"])
    ]
    exact = accounts.iloc[rng.choice(n, size=60, replace=False)].copy()
    accounts = pd.concat([accounts, dup_rows, exact], ignore_index=True)
    accounts = accounts.iloc[rng.permutation(len(accounts))].reset_index(drop=True)
    # Duplicated rows copy their gaps, so count missing values in the final sheet.
    missing = {column: int(accounts[column].isna().sum()) for column in missing}

    contacts = []
    for k, row in enumerate(accounts.drop_duplicates("account_id").itertuples()):
        for j in range(int(rng.integers(1, 3))):
            first, last = _person(rng)
            contacts.append(
                {
                    "contact_id": f"P-{k:05d}-{j}",
                    "account_id": row.account_id,
                    "name": f"{first} {last}",
                    "email": f"{first.lower()}{rng.integers(1, 99)}@mail.example",
                    "phone": _phone(row.country, rng),
                    "role": ["Admin", "Finance", "Developer", "Owner"][rng.integers(4)],
                }
            )
    truth = {
        "accounts_rows": int(len(accounts)),
        "exact_duplicate_rows": 60,
        "near_duplicate_accounts": 80,
        "near_duplicate_account_ids": dup_rows["account_id"].tolist(),
        "missing_values": missing,
        "date_formats_in_customer_since": ["%Y-%m-%d", "%d/%m/%Y", "%B %d, %Y", "%d.%m.%Y"],
        "personal_data_columns": {
            "accounts": ["contact_name", "contact_email", "contact_phone"],
            "contacts": ["name", "email", "phone"],
        },
    }
    return accounts, pd.DataFrame(contacts), truth


def _knowledge_base(rng: np.random.Generator) -> tuple[dict[str, str], pd.DataFrame]:
    articles: dict[str, str] = {}
    gold = []
    number = 1
    for category, topics in KB_TOPICS.items():
        for title, answer, questions in topics:
            article_id = f"KB-{number:03d}"
            slug = "-".join(w.lower().strip("'?,.") for w in title.split())
            filename = f"{article_id}-{slug}.md"
            steps = "\n".join(
                f"{k + 1}. {s}"
                for k, s in enumerate(
                    [
                        "Sign in to the ACME portal.",
                        "Open the page named in the article.",
                        "Follow the instructions and contact support if it does not work.",
                    ]
                )
            )
            articles[filename] = (
                f"---\nid: {article_id}\ncategory: {category}\n---\n\n# {title}\n\n{answer}\n\n"
                f"## Steps\n\n{steps}\n"
            )
            for q in questions:
                text = add_typos(q, 0.1, rng) if rng.random() < 0.3 else q
                gold.append({"question": text, "article_id": article_id, "category": category})
            number += 1
    return articles, pd.DataFrame(gold)


def _ai_usage(
    rng: np.random.Generator,
    tickets: pd.DataFrame,
    treated: np.ndarray,
    true_category: np.ndarray,
    names: list[str],
) -> tuple[pd.DataFrame, dict]:
    rows = []
    positions = np.flatnonzero(treated)
    for i in positions:
        t = tickets.iloc[i]
        correct = rng.random() < AI_SUGGESTION_ACCURACY
        suggested = true_category[i] if correct else names[rng.integers(len(names))]
        u = rng.random()
        accept_p = AI_ACCEPT_PROBABILITY[t.team] * (
            1.0 if correct else AI_WRONG_ACCEPT_FACTOR[t.team]
        )
        if u < accept_p:
            action = "accepted"
            final = suggested
        elif u < accept_p + 0.1:
            action = "edited"
            final = true_category[i]
        else:
            action = "overridden"
            final = true_category[i]
        shown = pd.Timestamp(t.created_at) + pd.Timedelta(seconds=int(rng.integers(5, 120)))
        outcome = "open" if t.resolved_at == "" else ("reopened" if t.reopened else "resolved")
        rows.append(
            {
                "event_id": f"E-{len(rows) + 1:06d}",
                "ticket_id": t.ticket_id,
                "shown_at": shown.strftime("%Y-%m-%d %H:%M:%S"),
                "agent_id": t.agent_id,
                "team": t.team,
                "suggested_category": suggested,
                "agent_action": action,
                "final_category": final,
                "outcome": outcome,
            }
        )
    usage = pd.DataFrame(rows)
    accepted = usage.groupby("team")["agent_action"].apply(
        lambda s: float((s == "accepted").mean())
    )
    truth = {
        "teams": list(AI_ACCEPT_PROBABILITY),
        "accept_probability_when_correct": AI_ACCEPT_PROBABILITY,
        "wrong_accept_factor": AI_WRONG_ACCEPT_FACTOR,
        "suggestion_accuracy": AI_SUGGESTION_ACCURACY,
        "events": int(len(usage)),
        "observed_accept_rate": {k: round(v, 4) for k, v in accepted.items()},
    }
    return usage, truth


#: Share of suggestions a reviewer checked afterwards (the reviewed sample).
AI_REVIEW_SHARE = 0.3
#: The model's confidence: Beta distributions for correct and for wrong suggestions.
AI_CONFIDENCE_BETA = {"correct": (8.0, 2.0), "wrong": (3.0, 3.0)}


def _ai_review(
    rng: np.random.Generator,
    usage: pd.DataFrame,
    tickets: pd.DataFrame,
    true_category: np.ndarray,
) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """The model's serving log (its confidence per suggestion) and the quality team's
    reviewed sample (the correct category for a random quarter of the suggestions): two
    systems apart from the usage log, joined on ``event_id``."""
    position = pd.Series(np.arange(len(tickets)), index=tickets["ticket_id"])
    truth = true_category[position[usage["ticket_id"]].to_numpy()]
    correct = usage["suggested_category"].to_numpy() == truth
    a = np.where(correct, AI_CONFIDENCE_BETA["correct"][0], AI_CONFIDENCE_BETA["wrong"][0])
    b = np.where(correct, AI_CONFIDENCE_BETA["correct"][1], AI_CONFIDENCE_BETA["wrong"][1])
    confidence = np.round(rng.beta(a, b), 3)
    model_log = pd.DataFrame(
        {
            "event_id": usage["event_id"],
            "model_version": "triage-tfidf-1.0",
            "confidence": confidence,
        }
    )
    reviewed = rng.random(len(usage)) < AI_REVIEW_SHARE
    review = pd.DataFrame(
        {"event_id": usage["event_id"][reviewed], "reviewed_category": truth[reviewed]}
    )
    accepted = (usage["agent_action"] == "accepted").to_numpy()
    by_team = {}
    for team in sorted(usage["team"].unique()):
        rows = reviewed & (usage["team"] == team).to_numpy()
        by_team[team] = {
            "reviewed": int(rows.sum()),
            "follows_correct": round(float(accepted[rows & correct].mean()), 4),
            "accepts_wrong": round(float(accepted[rows & ~correct].mean()), 4),
        }
    rates = {t: AI_ACCEPT_PROBABILITY[t] for t in by_team}
    truth_out = {
        "review_share": AI_REVIEW_SHARE,
        "reviewed_events": int(reviewed.sum()),
        "confidence_beta": {k: list(v) for k, v in AI_CONFIDENCE_BETA.items()},
        "reliance_by_team": by_team,
        # The laggard accepts least; the over-relying team accepts wrong suggestions almost as
        # often as correct ones; the under-relying team overrides correct ones most.
        "laggard_team": min(rates, key=rates.get),
        "over_relying_team": max(AI_WRONG_ACCEPT_FACTOR, key=AI_WRONG_ACCEPT_FACTOR.get),
        "under_relying_team": min(rates, key=rates.get),
    }
    return model_log, review, truth_out


#: Chapter 4's production window: the four weeks after the export, as the service sees them
#: (no labels yet). From the third week an in-app chat assistant goes live: chat's share of the
#: tickets jumps and chat tickets arrive wrapped in the assistant's transcript (longer, with
#: words the model never saw). Priority and the category mix stay as they were.
PRODUCTION_WEEKS = 4
PRODUCTION_DRIFT_FROM = EXPORT + pd.Timedelta(weeks=2)
PRODUCTION_CHAT_SHARE_AFTER = 0.55
CHAT_ASSISTANT_OPENING = (
    "Chat transcript. Ava (virtual assistant): Hi, I'm Ava, ACME's virtual assistant. "
    "How can I help today? Customer:"
)
CHAT_ASSISTANT_CLOSING = (
    "Ava (virtual assistant): Thanks! I'm handing this conversation over to a colleague, "
    "please hold on."
)


def _production_window(rng: np.random.Generator) -> tuple[pd.DataFrame, dict]:
    from pilot2prod.sample_company.text import ticket_text

    weeks = PRODUCTION_WEEKS
    n = round(N_TICKETS / 104 * weeks)
    seconds = np.sort(rng.integers(0, weeks * 7 * 86400, size=n))
    created = EXPORT + pd.to_timedelta(seconds, unit="s")
    names = list(CATEGORIES)
    shares = np.array([CATEGORIES[c]["share"] for c in names])
    category = rng.choice(names, size=n, p=shares / shares.sum())
    prio_names = list(PRIORITY)
    priority = rng.choice(prio_names, size=n, p=[PRIORITY[p][0] for p in prio_names])
    chan_names = list(CHANNELS)
    before = np.array([CHANNELS[c][0] for c in chan_names])
    after = before * (1 - PRODUCTION_CHAT_SHARE_AFTER) / (1 - CHANNELS["chat"][0])
    after[chan_names.index("chat")] = PRODUCTION_CHAT_SHARE_AFTER
    drifted = created >= PRODUCTION_DRIFT_FROM
    channel = np.where(
        drifted,
        rng.choice(chan_names, size=n, p=after),
        rng.choice(chan_names, size=n, p=before),
    )
    subjects, bodies = [], []
    for i in range(n):
        subject, body = ticket_text(str(category[i]), rng)
        if drifted[i] and channel[i] == "chat":
            body = f"{CHAT_ASSISTANT_OPENING} {body} {CHAT_ASSISTANT_CLOSING}"
        subjects.append(subject)
        bodies.append(body)
    frame = pd.DataFrame(
        {
            "ticket_id": [f"T-{200001 + i}" for i in range(n)],
            "created_at": created.strftime("%Y-%m-%d %H:%M:%S"),
            "channel": channel,
            "priority": priority,
            "subject": subjects,
            "body": bodies,
        }
    )
    truth = {
        "file": "production_window.csv",
        "tickets": n,
        "start": str(EXPORT.date()),
        "weeks": weeks,
        "drift_from": str(PRODUCTION_DRIFT_FROM.date()),
        "drifted_features": ["channel", "text_length", "oov_share"],
        "stable_features": ["priority"],
        "chat_share_before": CHANNELS["chat"][0],
        "chat_share_after": PRODUCTION_CHAT_SHARE_AFTER,
    }
    return frame, truth


def _truth(**k) -> dict:
    tickets: pd.DataFrame = k["tickets"]
    created: pd.DatetimeIndex = k["created"]
    latent = k["latent_hours"]
    window_start = LAUNCH - pd.Timedelta(weeks=BASELINE_WEEKS)
    valid = np.ones(len(tickets), dtype=bool)
    valid[k["clock_errors"]] = False
    in_window = (created >= window_start) & (created < LAUNCH) & valid
    resolved = pd.to_datetime(tickets["resolved_at"].replace("", None))
    censored_at_launch = in_window & ~(resolved < LAUNCH).to_numpy()
    closed_window = in_window & ~censored_at_launch
    by_team = {}
    for team in TEAMS:
        mask = in_window & (tickets["team"].to_numpy() == team)
        by_team[team] = {
            "tickets": int(mask.sum()),
            "true_median_hours": round(float(np.median(latent[mask])), 3),
        }
    closed = tickets[closed_window]
    return {
        "seed": k["seed"],
        "company": "ACME Support (fictional)",
        "history": {"start": str(START.date()), "export": str(EXPORT), "tickets": len(tickets)},
        "chapter1_baseline": {
            "as_of": str(LAUNCH.date()),
            "window_start": str(window_start.date()),
            "window_end_exclusive": str(LAUNCH.date()),
            "tickets_in_window": int(in_window.sum()),
            "open_at_as_of": int(censored_at_launch.sum()),
            "true_median_hours": round(float(np.median(latent[in_window])), 3),
            "naive_closed_only_median_hours": round(float(np.median(latent[closed_window])), 3),
            "by_team": by_team,
            "reopen_rate_closed": round(float(closed["reopened"].mean()), 5),
            "csat_mean_closed": round(float(closed["csat"].dropna().astype(float).mean()), 4),
            "log_sigma_within_cell": LOG_SIGMA,
        },
        "durations": {
            "distribution": "log-normal per ticket; median = category x priority x weekday x "
            "month x agent x complex x treatment",
            "log_sigma": LOG_SIGMA,
            "complex_share": COMPLEX_SHARE,
            "complex_multiplier": COMPLEX_MULTIPLIER,
            "agent_log_sd": AGENT_LOG_SD,
            "weekday_multiplier_mon_to_sun": WEEKDAY_DURATION,
            "month_multiplier": MONTH_DURATION,
            "category_median_hours": {c: v["median_hours"] for c, v in CATEGORIES.items()},
        },
        "volume": {
            "weekday_multiplier_mon_to_sun": WEEKDAY_VOLUME,
            "month_multiplier": MONTH_VOLUME,
            "yearly_growth": 0.15,
        },
        "ai_triage_launch": {
            "date": str(LAUNCH.date()),
            "treated_teams": TREATED_TEAMS,
            "control_teams": [t for t in TEAMS if t not in TREATED_TEAMS],
            "resolution_time_multiplier": TREATMENT_MULTIPLIER,
            "reopen_rate_before": REOPEN_RATE,
            "reopen_rate_treated_after": REOPEN_RATE_TREATED_AFTER,
        },
        "defects": {
            "tickets_end_before_start": {
                "count": len(k["clock_errors"]),
                "ticket_ids": tickets["ticket_id"].iloc[k["clock_errors"]].tolist(),
            },
            "label_noise": {
                "share": LABEL_NOISE_SHARE,
                "count": len(k["noisy_index"]),
            },
            "resubmitted_duplicates": {
                "count": len(k["resubmitted_pairs"]),
                "pairs": [
                    [tickets["ticket_id"].iloc[i], tickets["ticket_id"].iloc[j]]
                    for i, j in k["resubmitted_pairs"]
                ],
            },
            "personal_data_in_ticket_body": {
                "share_planned": PII_SIGNATURE_SHARE,
                "tickets": int((k["signed_kind"] != "").sum()),
                "kinds": ["email", "phone"],
                "count_by_kind": {
                    kind: int((k["signed_kind"] == kind).sum()) for kind in ("email", "phone")
                },
                "clean_columns": [
                    "ticket_id",
                    "channel",
                    "priority",
                    "category",
                    "team",
                    "agent_id",
                ],
            },
            "tickets_without_crm_account": {
                "customers": k["orphan_customers"],
                "tickets": k["orphan_tickets"],
                "share": round(k["orphan_tickets"] / len(tickets), 5),
            },
            "open_at_export": int((tickets["resolved_at"] == "").sum()),
            "crm": k["crm_truth"],
        },
        "teams": {t: {"agents": len(a)} for t, a in k["agents_by_team"].items()},
        "knowledge_base": {"articles": k["n_kb"], "gold_questions": k["n_gold"]},
        "ai_usage": k["ai_truth"],
    }


def _freeze_zip_times(path: Path) -> None:
    """Rewrite a zip (xlsx) with fixed entry times so the same content gives the same bytes."""
    with zipfile.ZipFile(path) as source:
        entries = [(info, source.read(info.filename)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for info, data in entries:
            if info.filename == "docProps/core.xml":  # openpyxl stamps the save time here
                for stamp in (b"created", b"modified"):
                    data = re.sub(
                        rb"<dcterms:" + stamp + rb"([^>]*)>[^<]*<",
                        rb"<dcterms:" + stamp + rb"\1>2026-11-02T00:00:00Z<",
                        data,
                    )
            frozen = zipfile.ZipInfo(info.filename, date_time=(2026, 11, 2, 0, 0, 0))
            frozen.compress_type = zipfile.ZIP_DEFLATED
            frozen.external_attr = info.external_attr
            target.writestr(frozen, data)


def write(company: GeneratedCompany, folder: Path) -> None:
    """Write the company to ``folder`` (created if missing)."""
    folder.mkdir(parents=True, exist_ok=True)
    company.tickets.to_csv(folder / "tickets.csv", index=False, lineterminator="\n")
    company.ai_usage.to_csv(folder / "ai_usage.csv", index=False, lineterminator="\n")
    company.ai_model_log.to_csv(folder / "ai_model_log.csv", index=False, lineterminator="\n")
    if company.production_window is not None:
        company.production_window.to_csv(
            folder / "production_window.csv", index=False, lineterminator="\n"
        )
    company.ai_review_sample.to_csv(
        folder / "ai_review_sample.csv", index=False, lineterminator="\n"
    )
    with pd.ExcelWriter(folder / "crm_accounts.xlsx", engine="openpyxl") as writer:
        company.crm_accounts.to_excel(writer, sheet_name="accounts", index=False)
        company.crm_contacts.to_excel(writer, sheet_name="contacts", index=False)
        writer.book.properties.created = pd.Timestamp("2026-11-02").to_pydatetime()
    _freeze_zip_times(folder / "crm_accounts.xlsx")
    kb = folder / "kb"
    kb.mkdir(exist_ok=True)
    for old in kb.glob("*.md"):
        old.unlink()
    for name, text in company.kb_articles.items():
        (kb / name).write_text(text, encoding="utf-8")
    company.kb_gold.to_csv(folder / "kb_gold.csv", index=False, lineterminator="\n")
    from pilot2prod.sample_company.estate import build_estate

    estate_truth = build_estate(folder / "estate", set(company.crm_accounts["account_id"]))
    for export in sorted((folder / "estate" / "order_exports").glob("*.xlsx")):
        _freeze_zip_times(export)
    truth = {**company.truth, "estate": estate_truth}
    with open(folder / "TRUTH.yaml", "w", encoding="utf-8") as fh:
        fh.write("# Planted truth for the ACME sample company. Generated; do not edit by hand.\n")
        yaml.safe_dump(truth, fh, sort_keys=False, allow_unicode=True)
