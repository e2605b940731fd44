"""Ticket and knowledge-base text for the sample company.

Every category has many phrasings, shares vocabulary with its neighbours (billing and refunds
both talk about charges; login and password both talk about accounts), and some tickets carry
typos, so a text classifier has real work to do.
"""

from __future__ import annotations

import re

import numpy as np

CATEGORY_TEXT: dict[str, dict[str, list[str]]] = {
    "billing_question": {
        "subjects": [
            "Question about my invoice",
            "Invoice amount looks wrong",
            "Why was I charged twice?",
            "Billing question",
            "Unexpected charge on my account",
            "Need a copy of invoice {invoice}",
            "VAT missing on invoice",
            "Payment method update",
        ],
        "problems": [
            "I was charged {amount} but my plan should cost less.",
            "The invoice {invoice} shows a line item I do not recognise.",
            "There are two charges of {amount} on my card this month.",
            "Can you explain the extra fee on the last invoice?",
            "I need the invoice re-issued with our company VAT number.",
            "My payment failed and now the account shows an outstanding balance.",
            "I want to switch from monthly to annual billing, how is it prorated?",
            "The billing address on invoice {invoice} is our old office.",
            "We were billed for 12 seats but only use 8.",
            "Where can I download past invoices for our accounts team?",
        ],
    },
    "refund_request": {
        "subjects": [
            "Refund request",
            "Please refund order {order}",
            "Money back for cancelled order",
            "Requesting a refund of {amount}",
            "Charged after cancelling - want refund",
            "Refund not received yet",
            "Return and refund",
        ],
        "problems": [
            "I cancelled order {order} but was still charged {amount}, please refund it.",
            "I returned the item two weeks ago and have not received my money back.",
            "The product arrived broken, I would like a full refund.",
            "You promised a refund of {amount} on the phone, it never arrived.",
            "I was charged for a renewal I did not want, please reverse the charge.",
            "The refund for order {order} shows as pending for ten days.",
            "Can I get a partial refund since the service was down for a week?",
            "Please refund the duplicate payment to my original card.",
        ],
    },
    "login_problem": {
        "subjects": [
            "Can't log in",
            "Login not working",
            "Locked out of my account",
            "Two-factor code never arrives",
            "Error when signing in",
            "SSO login fails",
            "Account access problem",
        ],
        "problems": [
            "When I try to sign in I get an error saying my session expired.",
            "My account is locked after too many attempts.",
            "The two-factor code SMS never arrives on my phone.",
            "Single sign-on redirects me back to the login page in a loop.",
            "I can log in on my phone but not on the desktop app.",
            "The login page says my account does not exist but I have used it for years.",
            "After the update the authenticator app codes are rejected.",
            "Our whole team cannot access the account since this morning.",
        ],
    },
    "password_reset": {
        "subjects": [
            "Password reset",
            "Forgot my password",
            "Reset link expired",
            "Password reset email not received",
            "Change password",
            "New password not accepted",
        ],
        "problems": [
            "I forgot my password and the reset email never arrives.",
            "The password reset link says it has expired.",
            "I reset my password but the new one is not accepted when I log in.",
            "How do I change my password from the account settings?",
            "The reset link opens a blank page.",
            "I need to reset the password for a colleague who left the company.",
            "The password rules keep rejecting my new password.",
        ],
    },
    "shipping_delay": {
        "subjects": [
            "Where is my order?",
            "Order {order} not delivered",
            "Shipping delay",
            "Tracking has not updated",
            "Package late",
            "Delivery missed",
            "Still waiting for shipment",
        ],
        "problems": [
            "My order {order} was supposed to arrive last week and is still not here.",
            "The tracking number has not updated for five days.",
            "The courier says delivered but nothing arrived at our address.",
            "The shipment seems stuck at customs, can you check?",
            "I paid for express delivery and the package is late.",
            "Order {order} shows shipped but the carrier has no record of it.",
            "Half of the items arrived, the rest of order {order} is missing.",
        ],
    },
    "order_change": {
        "subjects": [
            "Change my order",
            "Update delivery address for order {order}",
            "Cancel part of my order",
            "Add item to order {order}",
            "Wrong size ordered",
            "Modify order before shipping",
        ],
        "problems": [
            "I need to change the delivery address on order {order} before it ships.",
            "Can I swap the size on my order, it has not shipped yet?",
            "Please cancel one item from order {order} and keep the rest.",
            "I would like to add another unit to order {order}.",
            "I ordered the wrong colour, can the order be changed?",
            "Please move the delivery date of order {order} to next month.",
        ],
    },
    "technical_bug": {
        "subjects": [
            "App crashes",
            "Bug in the dashboard",
            "Error 500 when saving",
            "Export not working",
            "Feature broken after update",
            "Page does not load",
            "Data not syncing",
        ],
        "problems": [
            "The app crashes every time I open the reports page.",
            "Saving a form gives error 500 since the last update.",
            "The CSV export is empty even though the table has rows.",
            "The dashboard shows numbers from last month instead of today.",
            "Data entered on mobile does not sync to the web version.",
            "The page spins forever and never loads on Chrome.",
            "Notifications stopped working after the update.",
            "Charts render as blank boxes on the account overview.",
        ],
    },
    "api_integration": {
        "subjects": [
            "API returns 401",
            "Webhook not firing",
            "Integration with our ERP broken",
            "API rate limit question",
            "Token expired error",
            "Help with API pagination",
        ],
        "problems": [
            "Our API calls return 401 unauthorized with a key that worked yesterday.",
            "The webhook for new orders stopped firing on our endpoint.",
            "The ERP integration fails with a timeout when syncing invoices.",
            "We hit the API rate limit much earlier than the documented quota.",
            "The access token expires after minutes instead of hours.",
            "Pagination in the orders endpoint skips records.",
            "The sandbox environment returns different fields than production.",
        ],
    },
    "account_closure": {
        "subjects": [
            "Close my account",
            "Cancel subscription",
            "Delete our company account",
            "Downgrade and close",
            "How do I cancel?",
            "Terminate contract",
        ],
        "problems": [
            "Please close our account at the end of this billing period.",
            "I want to cancel my subscription and stop all future charges.",
            "We are moving to another provider, how do we terminate the contract?",
            "Close the account but keep access to invoices for our accounts team.",
            "I cannot find the cancel button in the account settings.",
            "Our company was acquired, please close the duplicate account.",
        ],
    },
    "data_privacy_request": {
        "subjects": [
            "GDPR data request",
            "Delete my personal data",
            "Request copy of my data",
            "Privacy request",
            "Right to be forgotten",
            "Data export under GDPR",
        ],
        "problems": [
            "Under GDPR I request a copy of all personal data you hold about me.",
            "Please delete all my personal data and confirm in writing.",
            "Which third parties have you shared my data with?",
            "I want my account and personal information erased.",
            "Please correct the personal data on my account, my name is misspelled.",
            "Send me an export of my data in a machine readable format.",
        ],
    },
}

OPENINGS = [
    "Hi,",
    "Hello team,",
    "Hi support,",
    "Good morning,",
    "Dear support team,",
    "Hey,",
    "",
    "Hello,",
]
CONTEXT = [
    "",
    "",
    "This is urgent for us.",
    "I already contacted you about this last week.",
    "We have been customers for years.",
    "This happened on our main account.",
    "My colleague reported the same thing.",
    "I checked the help centre but found nothing.",
    "Our finance team is asking about it.",
    "Please advise.",
]
CLOSINGS = ["Thanks", "Thank you", "Regards", "Best", "Cheers", "Kind regards", ""]

# Knowledge-base topics: (category, title, the passage that answers it, a question a customer asks).
KB_TOPICS: dict[str, list[tuple[str, str, list[str]]]] = {
    "billing_question": [
        (
            "Understanding your invoice",
            "Each invoice lists the plan, seats, usage fees and tax.",
            ["What does each line on my invoice mean?", "how do i read the invoice"],
        ),
        (
            "Adding a VAT number to invoices",
            "Add your VAT number under Billing > Tax details; "
            "future invoices include it and past invoices can be re-issued.",
            ["How do I get our VAT number on the invoice?", "invoice needs tax id"],
        ),
        (
            "Duplicate charges",
            "A duplicate charge is usually a pending authorisation that "
            "disappears within five working days.",
            ["Why do I see the same charge twice?"],
        ),
        (
            "Switching to annual billing",
            "Annual billing is prorated from the switch date and "
            "credited against the remaining monthly period.",
            ["How is a switch to yearly billing prorated?"],
        ),
        (
            "Downloading past invoices",
            "All invoices are available as PDF under Billing > History.",
            ["Where can I download old invoices?"],
        ),
        (
            "Updating the payment method",
            "Replace the card under Billing > Payment method; failed "
            "payments are retried automatically.",
            ["My card expired, how do I update it?"],
        ),
    ],
    "refund_request": [
        (
            "Refund policy",
            "Orders cancelled before shipping are refunded in full within 5-10 working days.",
            ["How long does a refund take?", "when do i get my money back"],
        ),
        (
            "Refunds for damaged items",
            "Send a photo of the damage; we refund or replace the item without a return.",
            ["The item arrived broken, can I get my money back?"],
        ),
        (
            "Partial refunds after an outage",
            "Service credits are granted for outages longer than four hours.",
            ["Do I get compensation for downtime?"],
        ),
        (
            "Refund status",
            "A pending refund is processed by your bank within ten days.",
            ["My refund still shows pending, why?"],
        ),
        (
            "Reversing an unwanted renewal",
            "Renewals cancelled within 14 days are refunded in full.",
            ["I was renewed by mistake, can you reverse it?"],
        ),
    ],
    "login_problem": [
        (
            "Unlocking a locked account",
            "Accounts unlock automatically after 30 minutes, or an admin can unlock them.",
            ["My account is locked, what do I do?"],
        ),
        (
            "Two-factor authentication troubleshooting",
            "If SMS codes do not arrive, switch to an "
            "authenticator app and check the phone number.",
            ["I never receive the 2FA code"],
        ),
        (
            "Single sign-on loops",
            "A redirect loop with SSO usually means the identity provider's certificate expired.",
            ["SSO keeps sending me back to the login page"],
        ),
        (
            "Session expired errors",
            "Clear cookies and make sure the device clock is correct.",
            ["Why does it say my session expired when I sign in?"],
        ),
        (
            "Access for a whole team",
            "If nobody in a company can sign in, check the status page and the SSO settings.",
            ["Nobody in our team can log in"],
        ),
        (
            "Desktop app sign-in",
            "The desktop app needs version 5 or newer to sign in.",
            ["Login works on my phone but not on the desktop app"],
        ),
    ],
    "password_reset": [
        (
            "Resetting your password",
            "Use Forgot password on the sign-in page; the link is valid for one hour.",
            ["How do I reset my password?", "forgot password"],
        ),
        (
            "Reset email not arriving",
            "Check the spam folder and that the address is the one on the account.",
            ["The password reset email never came"],
        ),
        (
            "Expired reset links",
            "Request a new link; only the newest link works.",
            ["My reset link says expired"],
        ),
        (
            "Password rules",
            "Passwords need 12 characters and cannot reuse the last five.",
            ["What are the password requirements?"],
        ),
        (
            "Resetting a colleague's password",
            "Admins reset passwords for their team under Users.",
            ["How can I reset the password of someone in my team?"],
        ),
    ],
    "shipping_delay": [
        (
            "Tracking your order",
            "Tracking updates within 24 hours of dispatch.",
            ["How do I track my order?", "where is my package"],
        ),
        (
            "Delivered but not received",
            "Check with neighbours, then report it within 7 days for a trace with the carrier.",
            ["Tracking says delivered but I have nothing"],
        ),
        (
            "Customs delays",
            "Cross-border shipments can be held at customs for up to 10 days.",
            ["My parcel is stuck at customs"],
        ),
        (
            "Express delivery guarantee",
            "Late express deliveries get the shipping fee refunded.",
            ["I paid for express and it is late"],
        ),
        (
            "Split shipments",
            "Large orders may ship in several parcels with separate tracking.",
            ["Only part of my order arrived"],
        ),
        (
            "Tracking not updating",
            "If tracking has not moved for 5 days we open a carrier investigation.",
            ["Tracking has been stuck for days"],
        ),
    ],
    "order_change": [
        (
            "Changing the delivery address",
            "Addresses can be changed until the order is packed.",
            ["Can I change where my order is delivered?"],
        ),
        (
            "Cancelling part of an order",
            "Single items can be removed before dispatch.",
            ["How do I cancel one item in my order?"],
        ),
        (
            "Exchanging sizes and colours",
            "Exchanges before dispatch are free; after delivery use a return.",
            ["I ordered the wrong size"],
        ),
        (
            "Adding items to an order",
            "Items cannot be added after payment; place a second order.",
            ["Can I add something to my existing order?"],
        ),
        (
            "Scheduling delivery",
            "Business customers can choose a delivery date up to 60 days ahead.",
            ["Can you deliver my order later?"],
        ),
    ],
    "technical_bug": [
        (
            "App crashes on reports",
            "Update to the latest version; crashes on reports were fixed in 5.2.",
            ["The app keeps crashing"],
        ),
        (
            "Error 500 when saving",
            "A 500 error on save is logged automatically; retry after clearing the draft.",
            ["I get error 500 when I save"],
        ),
        (
            "Empty CSV exports",
            "Exports respect the current filter; clear filters before exporting.",
            ["My export file is empty"],
        ),
        (
            "Dashboard shows stale data",
            "Dashboards refresh hourly; force a refresh from the menu.",
            ["The dashboard numbers are old"],
        ),
        (
            "Mobile sync issues",
            "Sync needs the app open on Wi-Fi for a minute after edits.",
            ["Changes on my phone do not show on the web"],
        ),
        (
            "Browser compatibility",
            "The web app supports the two latest versions of major browsers.",
            ["The page never loads in my browser"],
        ),
    ],
    "api_integration": [
        (
            "API authentication",
            "API keys are scoped per environment; a 401 means the key is "
            "for another environment or was rotated.",
            ["Why does the API return 401?"],
        ),
        (
            "Webhooks",
            "Webhooks are disabled after 20 consecutive failures; re-enable them in settings.",
            ["Our webhook stopped receiving events"],
        ),
        (
            "Rate limits",
            "The API allows 600 requests per minute per key.",
            ["What is the API rate limit?"],
        ),
        (
            "Pagination",
            "Use the cursor from the response; offset pagination skips records "
            "under concurrent writes.",
            ["The API skips records when paging"],
        ),
        (
            "Token lifetime",
            "Access tokens last 60 minutes; use the refresh token.",
            ["My API token expires too fast"],
        ),
        (
            "ERP connectors",
            "The ERP connector syncs invoices every 15 minutes; timeouts "
            "usually mean a firewall rule.",
            ["Our ERP sync times out"],
        ),
    ],
    "account_closure": [
        (
            "Cancelling your subscription",
            "Cancel under Account > Subscription; access continues to the end of the paid period.",
            ["How do I cancel my subscription?"],
        ),
        (
            "Closing a company account",
            "Owners can close the company account; invoices remain downloadable for 10 years.",
            ["How do we close our company account?"],
        ),
        (
            "Merging duplicate accounts",
            "Support merges duplicate accounts after verifying both owners.",
            ["We have two accounts, can they be merged?"],
        ),
        (
            "Ending a contract early",
            "Annual contracts end at term; early termination is prorated for enterprise plans.",
            ["Can we terminate our contract early?"],
        ),
        (
            "Downgrading before closing",
            "Downgrade to the free plan to keep read-only access.",
            ["Can I keep read-only access after cancelling?"],
        ),
    ],
    "data_privacy_request": [
        (
            "Requesting a copy of your data",
            "We send a machine-readable export within 30 days of a verified request.",
            ["How do I get a copy of my personal data?"],
        ),
        (
            "Deleting your personal data",
            "Erasure requests are completed within 30 days; invoices are kept as the law requires.",
            ["Please delete my data"],
        ),
        (
            "Correcting personal data",
            "Update your profile or ask support to correct records.",
            ["My name is misspelled in your records"],
        ),
        (
            "Our sub-processors",
            "The list of sub-processors is published in the trust centre.",
            ["Who do you share my data with?"],
        ),
        (
            "Verifying a privacy request",
            "We verify identity by email before acting on a request.",
            ["Why do you need to verify my identity for a data request?"],
        ),
    ],
}

PRODUCTS = ["Starter", "Team", "Business", "Enterprise"]


def _fill(template: str, rng: np.random.Generator) -> str:
    return template.format(
        invoice=f"INV-{rng.integers(100000, 999999)}",
        order=f"SO-{rng.integers(1000000, 9999999)}",
        amount=f"{rng.integers(9, 900)}.{rng.integers(0, 99):02d} EUR",
    )


def _typo(word: str, rng: np.random.Generator) -> str:
    if len(word) < 4:
        return word
    position = int(rng.integers(1, len(word) - 2))
    kind = rng.integers(0, 3)
    if kind == 0:  # swap two neighbours
        return word[:position] + word[position + 1] + word[position] + word[position + 2 :]
    if kind == 1:  # drop a letter
        return word[:position] + word[position + 1 :]
    return word[:position] + word[position] + word[position:]  # double a letter


def add_typos(text: str, rate: float, rng: np.random.Generator) -> str:
    """Misspell roughly ``rate`` of the words of ``text``."""
    words = text.split(" ")
    return " ".join(_typo(w, rng) if rng.random() < rate else w for w in words)


NEIGHBOURS = {
    "billing_question": "refund_request",
    "refund_request": "billing_question",
    "login_problem": "password_reset",
    "password_reset": "login_problem",
    "shipping_delay": "order_change",
    "order_change": "shipping_delay",
    "technical_bug": "api_integration",
    "api_integration": "technical_bug",
    "account_closure": "billing_question",
    "data_privacy_request": "account_closure",
}
SYNONYMS = {
    "charged": ["billed", "debited", "charged"],
    "invoice": ["bill", "invoice", "statement"],
    "account": ["account", "profile", "workspace"],
    "order": ["order", "purchase", "shipment"],
    "refund": ["refund", "reimbursement", "money back"],
    "cancel": ["cancel", "stop", "terminate"],
    "app": ["app", "application", "software", "tool"],
    "error": ["error", "issue", "problem", "failure"],
    "password": ["password", "passcode", "pwd"],
    "arrived": ["arrived", "come", "shown up"],
    "page": ["page", "screen", "view"],
    "please": ["please", "pls", "kindly"],
    "colleague": ["colleague", "coworker", "team mate"],
    "week": ["week", "couple of days", "few days"],
}
FILLERS_BEFORE = [
    "",
    "",
    "",
    "I noticed that",
    "For some reason",
    "Since yesterday",
    "Not sure who to ask, but",
    "As mentioned on the phone,",
    "Again:",
    "Quick question:",
    "Hope you can help -",
]
FILLERS_AFTER = [
    "",
    "",
    "Can you check?",
    "What should I do?",
    "Please fix asap.",
    "Let me know.",
    "Waiting for your answer.",
    "Is this a known issue?",
]
VAGUE_SUBJECTS = [
    "Help",
    "Question",
    "Urgent",
    "Follow-up",
    "Problem",
    "Re: your email",
    "Ticket",
    "Need assistance",
]
VAGUE_BODIES = [
    "I have an issue with my account, please call me back.",
    "Something is not right, can you help?",
    "Following up on my previous message, still not solved.",
    "See the screenshot I sent earlier.",
    "Same problem as last time.",
    "Can someone from your team contact me?",
    "It still does not work.",
    "I need help with this as soon as possible.",
]
_WORD_RE = re.compile(r"[A-Za-z]+")


def _vary(sentence: str, rng: np.random.Generator) -> str:
    """Swap words for synonyms and wrap in a filler, so no template repeats verbatim."""

    def swap(match: re.Match) -> str:
        word = match.group(0)
        options = SYNONYMS.get(word.lower())
        if not options or rng.random() < 0.4:
            return word
        choice = options[rng.integers(len(options))]
        return choice.capitalize() if word[0].isupper() else choice

    varied = _WORD_RE.sub(swap, sentence)
    before = FILLERS_BEFORE[rng.integers(len(FILLERS_BEFORE))]
    if before:
        varied = f"{before} {varied[0].lower()}{varied[1:]}"
    after = FILLERS_AFTER[rng.integers(len(FILLERS_AFTER))]
    return f"{varied} {after}".strip()


def ticket_text(category: str, rng: np.random.Generator, signature: str = "") -> tuple[str, str]:
    """A (subject, body) pair written by a customer about ``category``.

    About 8 % of tickets are vague (no cue to the category at all) and about 20 % also
    mention a neighbouring category's problem, which is what makes routing hard in practice.
    """
    spec = CATEGORY_TEXT[category]
    opening = OPENINGS[rng.integers(len(OPENINGS))]
    closing = CLOSINGS[rng.integers(len(CLOSINGS))]
    if rng.random() < 0.08:
        subject = VAGUE_SUBJECTS[rng.integers(len(VAGUE_SUBJECTS))]
        parts = [opening, VAGUE_BODIES[rng.integers(len(VAGUE_BODIES))]]
    else:
        subject = _fill(spec["subjects"][rng.integers(len(spec["subjects"]))], rng)
        problems = spec["problems"]
        n_problems = 1 if rng.random() < 0.7 else 2
        chosen = rng.choice(len(problems), size=n_problems, replace=False)
        parts = [opening] + [_vary(_fill(problems[i], rng), rng) for i in chosen]
        if rng.random() < 0.2:
            other = CATEGORY_TEXT[NEIGHBOURS[category]]["problems"]
            aside = _vary(_fill(other[rng.integers(len(other))], rng), rng)
            parts.append(f"Also, {aside[0].lower()}{aside[1:]}")
        parts.append(CONTEXT[rng.integers(len(CONTEXT))])
    if closing:
        parts.append(closing)
    body = " ".join(p for p in parts if p)
    if rng.random() < 0.3:
        body = add_typos(body, 0.08, rng)
    if signature:  # after the typos: planted personal data stays exactly as planted
        body = f"{body} {signature}"
    if rng.random() < 0.15:
        subject = subject.lower()
    return subject, body
