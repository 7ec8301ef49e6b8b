"""Generate seeds/tickets.csv: synthetic customer-support tickets for the example project.

Deterministic for a given --seed and --rows (stdlib only: one ``random.Random`` drives every
choice, and every pool is an ordered list). The mix is meant to exercise batchsql, not to be pretty:
five plausible labels (billing, bug, feature_request, account, other) with ambiguous cases, bodies
from one line to several paragraphs with commas, quotes and newlines, about 3% exact duplicate
subject+body pairs (people write twice; dedup should save money), and about 5% non-ASCII text.

    python scripts/generate_tickets.py [--rows 1200] [--seed 7] [--out seeds/tickets.csv]
"""

from __future__ import annotations

import argparse
import csv
import random
import unicodedata
from datetime import datetime, timedelta
from pathlib import Path
from typing import NamedTuple

COLUMNS = ["ticket_id", "created_at", "customer_email", "channel", "subject", "body"]
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "seeds" / "tickets.csv"
DUPLICATE_RATE = 0.03
NON_ASCII_RATE = 0.05
MIN_BODY, MAX_BODY = 100, 900

# --------------------------------------------------------------------------- slot fillers
# Every pool used by ordinary tickets is pure ASCII, so the non-ASCII share is controlled
# entirely by the "international" tickets below.

FIRST = ["Alex", "Maria", "James", "Priya", "Chen", "Sarah", "David", "Aisha", "Tom", "Emily",
         "Carlos", "Nina", "Omar", "Grace", "Lucas", "Hannah", "Raj", "Olivia", "Ben", "Fatima",
         "Kevin", "Laura", "Mike", "Sofia", "Daniel", "Jess", "Ahmed", "Rachel", "Sam", "Yuki",
         "Peter", "Anna", "Marcus", "Chloe", "Ivan", "Megan", "Tariq", "Holly", "Victor", "Zoe",
         "Eric", "Leah", "Noah", "Mia", "Patrick", "Kim", "Andre", "Beth", "Dmitri", "Jade"]
LAST = ["Smith", "Johnson", "Patel", "Nguyen", "Garcia", "Brown", "Wilson", "Khan", "Lee", "Clark",
        "Lopez", "Martin", "Davies", "Kowalski", "Murphy", "Singh", "Taylor", "Okafor", "Walker",
        "Wright", "Rossi", "Schmidt", "Hughes", "Evans", "Cohen", "Baker", "Fischer", "Reyes",
        "Morgan", "Ali", "Turner", "Bennett", "Hall", "Young", "Kim", "Wong", "Fraser", "Moore"]
# Names with accents for international tickets; emails use an ASCII fold of them.
# (first, last, language): customers write in, and sign off in, their own language.
INTL_NAMES = [("José", "García", "es"), ("Zoë", "Lefèvre", "fr"), ("Björn", "Müller", "de"),
              ("François", "Dubois", "fr"), ("Łukasz", "Wiśniewski", "pl"),
              ("Renée", "Côté", "fr"), ("Jürgen", "Schäfer", "de"), ("Inés", "Peña", "es"),
              ("Søren", "Østergaard", "da"), ("Ana", "Conceição", "pt"),
              ("Çağla", "Yılmaz", "tr"), ("Héloïse", "Mercier", "fr"),
              ("Mónica", "Ibáñez", "es"), ("Tomáš", "Dvořák", "cs"), ("Åsa", "Lindström", "sv"),
              ("Noémie", "Gagné", "fr"), ("Dörte", "Krüger", "de")]
# (name, email local part): romanized addresses, as people actually use.
JAPANESE_NAMES = [("佐藤 花子", "hanako.sato"), ("鈴木 一郎", "ichiro.suzuki"),
                  ("高橋 美咲", "misaki.takahashi"), ("田中 健", "ken.tanaka")]
DOMAINS = ["example.com", "example.org", "example.net", "mail.example.com", "northwind.example",
           "globex.example", "initech.example", "blueharbor.example", "kestrel-labs.example",
           "fjordline.example", "sunpeak.example", "copperleaf.example", "redwood-dental.example",
           "orbitfreight.example", "lumen-studio.example", "harborview.example"]
# Customers on a company domain sign with that company's name.
DOMAIN_COMPANY = {"northwind.example": "Northwind Traders", "globex.example": "Globex",
                  "initech.example": "Initech", "blueharbor.example": "Blue Harbor Logistics",
                  "kestrel-labs.example": "Kestrel Labs", "fjordline.example": "Fjordline",
                  "sunpeak.example": "Sunpeak Solar", "copperleaf.example": "Copperleaf Bakery",
                  "redwood-dental.example": "Redwood Dental",
                  "orbitfreight.example": "Orbit Freight", "lumen-studio.example": "Lumen Studio",
                  "harborview.example": "Harborview Realty"}
COMPANIES = ["Northwind Traders", "Globex", "Initech", "Blue Harbor Logistics", "Kestrel Labs",
             "Fjordline", "Sunpeak Solar", "Copperleaf Bakery", "Redwood Dental", "Orbit Freight",
             "Lumen Studio", "Harborview Realty", "Maple & Pine Events", "Atlas Fitness"]
AGENTS = ["Dana", "Luis", "Kate", "Femi", "Jonas", "Ruth", "Theo", "Mina"]
PLANS = ["Free", "Starter", "Pro", "Business", "Enterprise"]
PLAN_PRICE = {"Free": 0, "Starter": 12, "Pro": 29, "Business": 79, "Enterprise": 199}
AREAS = ["dashboard", "reports page", "CSV export", "invoice page", "calendar view", "API",
         "mobile app", "team settings", "notifications", "search", "file uploads", "webhooks",
         "scheduler", "audit log", "billing page", "project board", "time tracking", "inbox"]
FEATURES = ["dark mode", "bulk editing", "custom fields", "keyboard shortcuts",
            "recurring reports", "a public API for comments", "granular permissions",
            "an offline mode in the mobile app", "Gantt charts", "saved filters",
            "multi-currency invoices", "two-way calendar sync", "audit log export",
            "custom email templates", "a read-only guest role", "undo for deletions",
            "SCIM user provisioning", "webhook retries", "XLSX export", "per-project budgets"]
INTEGRATIONS = ["Slack", "Microsoft Teams", "Salesforce", "HubSpot", "Zapier", "Google Sheets",
                "Jira", "QuickBooks", "Xero", "Zendesk", "Google Calendar", "Outlook"]
IDPS = ["Okta", "Azure AD", "Google Workspace", "OneLogin", "JumpCloud", "Microsoft Entra ID"]
ERRORS = ["Error 500: Internal Server Error", "ERR_CONNECTION_RESET", "Error E1042",
          "403 Forbidden", "429 Too Many Requests", "Something went wrong (code 7719)",
          "TypeError: Cannot read properties of undefined (reading 'id')",
          "Request timed out after 30000ms", "SAML response signature invalid",
          "Export failed: unexpected end of data", "Error E2210: quota exceeded",
          "502 Bad Gateway", "Unable to save changes (E3005)", "NetworkError when attempting "
          "to fetch resource"]
BROWSERS = ["Chrome 131", "Chrome 133", "Firefox 134", "Safari 18.2", "Edge 132", "Brave",
            "Safari on iPad", "Chrome on Android"]
OSES = ["Windows 11", "macOS Sonoma", "macOS Sequoia", "Ubuntu 24.04", "iOS 18", "Android 15",
        "ChromeOS", "Windows 10"]
DEVICES = ["iPhone 15", "iPhone 13 mini", "Pixel 8", "Galaxy S24", "iPad Air", "a Dell laptop",
           "a MacBook Air", "a Surface Pro", "Galaxy Tab S9"]
FORMATS = ["CSV", "PDF", "XLSX", "JSON"]
REPORTS = ["Monthly revenue", "Team utilization", "Open tasks by owner", "Client hours",
           "Q1 pipeline", "Expense summary", "Weekly status", "Invoice aging"]
COUNTRIES = ["Germany", "France", "the Netherlands", "Ireland", "Spain", "Italy", "Poland",
             "Sweden", "Belgium", "Austria", "Denmark", "Portugal"]
VAT_PREFIX = {"Germany": "DE", "France": "FR", "the Netherlands": "NL", "Ireland": "IE",
              "Spain": "ES", "Italy": "IT", "Poland": "PL", "Sweden": "SE", "Belgium": "BE",
              "Austria": "ATU", "Denmark": "DK", "Portugal": "PT"}
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]

# --------------------------------------------------------------------------- scenarios
# Each scenario: label, weight, subjects, openers (the gist), details (supporting sentences,
# a few are drawn), asks (what the customer wants). Slots are filled per ticket, so the same
# amount or error code appears in the subject and the body.

SCENARIOS: list[dict] = [
    # ---------------------------------------------------------------- billing
    dict(label="billing", weight=6, subjects=[
        "Charged twice this month", "Double charge on my card", "Duplicate payment for {month}",
        "Why was I billed two times?", "Two charges of {amount} on my statement",
        "URGENT: double billing", "billed twice for the {plan} plan", "Duplicate charge",
    ], openers=[
        "I was charged {amount} twice on {date} for the same {plan} subscription.",
        "My bank statement shows two identical charges of {amount} from you on {date}.",
        "Looks like you charged my card ending in {card} twice this month, both for {amount}.",
        "We got billed twice for {month}: invoice {invoice} and another charge for the same "
        "amount a few minutes later.",
    ], details=[
        "We only have one workspace and {seats} seats, so there should be a single charge.",
        "I checked with my bank and both transactions are settled, not pending.",
        "The billing page only lists one invoice, which makes this even more confusing.",
        "This happened right after I updated the card details, maybe that triggered it?",
        "Our finance team flagged it during the month-end reconciliation.",
        "I've attached a screenshot of the statement with both lines highlighted.",
    ], asks=[
        "Please refund the duplicate charge.",
        "Can you reverse the second payment and confirm by email?",
        "Please look into it and refund the extra {amount} as soon as possible.",
        "I'd like the duplicate refunded to the same card, thanks.",
    ]),
    dict(label="billing", weight=3, subjects=[
        "Refund for auto-renewal", "Auto-renewal charge refund", "Refund request",
        "Renewed without warning", "Money back for renewal I didn't want",
    ], openers=[
        "Our {plan} plan auto-renewed on {date} and charged {amount}, but we had already "
        "moved to another tool.",
        "You renewed our annual {plan} subscription for {amount} on {date} without any "
        "reminder.",
    ], details=[
        "Nobody on the team has logged in since {month}, you can check the activity log.",
        "The renewal reminder email went to a former employee's address.",
        "We are a small non-profit and {amount} is a lot for us.",
        "I'm happy to keep the account on the Free plan, I just don't need the paid features.",
    ], asks=[
        "Could you process a full refund?",
        "Please refund {amount} to the original payment method.",
        "What are my options here? A partial refund would also be fine.",
    ]),
    dict(label="billing", weight=3, subjects=[
        "Cancelled but still charged", "Charged after cancelling", "Refund please",
        "Why am I still being billed?", "Subscription cancelled - charge anyway",
    ], openers=[
        "I cancelled my subscription on {date} but was still charged {amount} afterwards.",
        "We cancelled the {plan} plan last month and you charged the card ending in {card} "
        "again today.",
    ], details=[
        "I have the cancellation confirmation email if you need it.",
        "The account page says 'Cancelled' so I don't understand the charge.",
        "Your website says refunds are possible within 14 days, and it has been 3 days.",
        "Please make sure there are no further charges.",
    ], asks=[
        "Please refund the charge and confirm the subscription is cancelled.",
        "Please refund {amount} to the original payment method.",
        "Please confirm once the refund has been issued.",
    ]),
    dict(label="billing", weight=2, subjects=[
        "Prorated credit after downgrade", "Downgrade credit missing",
        "Downgraded to {plan_down} - still paying {plan} price",
    ], openers=[
        "We downgraded from {plan} to {plan_down} on {date} and I expected a prorated credit, "
        "but nothing shows up.",
        "After switching to the {plan_down} plan we were still charged the full {plan} price "
        "of {amount}.",
    ], details=[
        "The plan page shows {plan_down}, so the downgrade itself worked.",
        "Your pricing page says unused time is credited to the account.",
        "We reduced the team to {seats} people, which is why we downgraded.",
    ], asks=[
        "Can you apply the credit or refund the difference?",
        "How is the proration calculated? I'd like to understand the numbers.",
    ]),
    dict(label="billing", weight=3, subjects=[
        "Need a copy of invoice for {month}", "Invoice {invoice}", "Where can I download invoices?",
        "Invoice missing", "Copy of invoice please", "Invoices for our auditors",
    ], openers=[
        "Our accounts payable team needs a copy of invoice {invoice} for {month}.",
        "I can't find the invoice for the charge on {date} anywhere in the billing page.",
        "Our auditors need all invoices since {month} and I can only find the last one.",
    ], details=[
        "Please send it as PDF, our system can't import the HTML version.",
        "The download button on the invoice page just spins forever.",
        "Going forward invoices should go to ap@{domain} instead of to me.",
    ], asks=[
        "Please email the invoice to me or tell me where to download it.",
        "Can you send them over by the end of the week?",
    ]),
    dict(label="billing", weight=3, subjects=[
        "Wrong company name on invoice", "Invoice address change", "PO number on invoices",
        "Please update billing details", "Invoice {invoice} needs correction",
    ], openers=[
        "The invoices still show our old company name, we are {company} now.",
        "Can you add our purchase order number PO-{po} to invoice {invoice} and future ones?",
        "Our billing address changed and invoice {invoice} still shows the old one.",
    ], details=[
        "Our auditors need the invoices to show the billing address, not just the email.",
        "We need every invoice since {month} reissued with the correct details.",
        "Without the PO number our AP team can't pay the invoice.",
    ], asks=[
        "Can you reissue the invoice with the corrected details?",
        "Let me know if you need anything from us to update this.",
    ]),
    dict(label="billing", weight=1, subjects=[
        "Invoice shows wrong amount", "Overcharged on invoice {invoice}",
    ], openers=[
        "Invoice {invoice} says {amount} but our plan is {plan} with {seats} seats, which "
        "should be less.",
    ], details=[
        "We haven't added any users since {month}.",
        "The previous invoices were all lower.",
    ], asks=[
        "Please check the calculation and credit the difference.",
    ]),
    dict(label="billing", weight=4, subjects=[
        "VAT ID not applied", "Reverse charge VAT", "VAT charged incorrectly",
        "Add VAT number to account", "Tax on invoice is wrong", "EU VAT question",
    ], openers=[
        "We are a registered business in {country} and our VAT ID {vat_id} is in the account, "
        "but you still charged VAT on invoice {invoice}.",
        "Our invoices should be reverse charge since we're a B2B customer in {country}.",
        "I entered our VAT number {vat_id} but the checkout still adds tax.",
        "Invoice {invoice} shows VAT at the wrong rate for {country}.",
    ], details=[
        "Without a valid reverse-charge invoice we can't reclaim the VAT.",
        "The VAT ID validates fine on the VIES website.",
        "Our accountant says the invoice must state 'reverse charge' explicitly.",
        "This has been the case for every invoice since {month}.",
    ], asks=[
        "Please correct the invoice and refund the VAT amount.",
        "Can you update our tax settings and reissue the invoices?",
        "How do we get this fixed before our quarterly filing?",
    ]),
    dict(label="billing", weight=3, subjects=[
        "Payment failed", "Card declined but it works everywhere else",
        "Can't update credit card", "Account suspended for non-payment?", "Payment issue",
    ], openers=[
        "We got an email that the payment for our {plan} plan failed, but the card ending in "
        "{card} is valid and has funds.",
        "I'm trying to update our credit card on the billing page and it keeps saying "
        "'card declined'.",
        "Our account shows a banner saying payment is overdue, but the card was charged on "
        "{date}.",
    ], details=[
        "Our bank says they never saw an authorization attempt from you.",
        "We have {seats} users and can't afford the account being locked.",
        "I tried two different cards and both failed the same way.",
    ], asks=[
        "Can you retry the payment or tell me what's wrong?",
        "Please let me know how to proceed so we don't lose access.",
    ]),
    dict(label="billing", weight=2, subjects=[
        "Pay by bank transfer?", "Upgrade to {plan_up} - pricing question", "Quote request",
        "Annual billing question", "Proration when adding seats",
    ], openers=[
        "Is it possible to pay annually by bank transfer instead of card?",
        "We want to upgrade from {plan} to {plan_up} for {seats} people. How does proration "
        "work?",
        "If we add {seats} seats mid-cycle, are we charged the full month for them?",
    ], details=[
        "Our company policy doesn't allow corporate cards for software above {amount} a year.",
        "We'd need a formal quote for our procurement system.",
        "Budget for next year is being finalized this month.",
    ], asks=[
        "Could you send a quote we can pay by invoice?",
        "Please let me know the price before we commit.",
    ]),
    # Ambiguous on purpose: a labeler (human or model) has to pick the main issue.
    dict(label="billing", weight=1, subjects=[
        "Charged after deleting account", "Account deleted but still billed",
    ], openers=[
        "I deleted my account on {date} but was charged {amount} again this month.",
    ], details=[
        "I can't log in anymore to check, since the account is gone.",
        "I got the confirmation email for the deletion.",
    ], asks=["Please refund the charge.", "Please stop charging my card."]),
    dict(label="billing", weight=1, subjects=[
        "Still billed for removed users", "Seat count wrong on invoice",
    ], openers=[
        "We removed {seats} users from the workspace but invoice {invoice} still bills for "
        "them.",
    ], details=[
        "The seat count in team settings is correct, only the invoice is wrong.",
    ], asks=["Please fix the invoice and credit the difference."]),
    dict(label="billing", weight=1, subjects=[
        "Error on upgrade page and charged anyway", "Upgrade failed but card charged",
    ], openers=[
        "The upgrade page showed \"{error}\" but my card was charged {amount} anyway.",
    ], details=[
        "Now I don't know if the upgrade went through or not.",
        "The workspace still shows the {plan} plan.",
    ], asks=["Please either apply the upgrade or refund the charge."]),
    # ---------------------------------------------------------------- bug
    dict(label="bug", weight=4, subjects=[
        "Mobile app keeps crashing", "App crashes on launch", "iOS app closes immediately",
        "Mobile app crash after update to {version}", "Crash!!!", "App crash on {device}",
    ], openers=[
        "Since the update to version {version} the mobile app crashes as soon as I open the "
        "{area}.",
        "The app closes immediately after the splash screen on my {device}.",
        "Every time I try to attach a photo the app freezes and then crashes.",
    ], details=[
        "I'm on {os} and have already reinstalled the app twice.",
        "It worked fine until yesterday's update.",
        "Other people on my team with the same phone don't have the problem.",
        "I've tried logging out, clearing the cache and restarting the phone.",
        "It happens every single time, I can reproduce it in a few seconds.",
        "The web version still works, so it's only the app.",
    ], asks=[
        "Is there a fix or a workaround?",
        "Can you look into this? I rely on the app when I'm on site.",
        "Please let me know if you need logs, I'm happy to send them.",
    ]),
    dict(label="bug", weight=2, subjects=[
        "Desktop app freezes and crashes", "Desktop app crash when switching workspaces",
        "Crash when opening {area}",
    ], openers=[
        "The desktop app crashes when I switch between workspaces.",
        "The desktop app freezes for a few seconds and then crashes whenever I open the {area}.",
    ], details=[
        "I'm on {os} with the latest version, {version}.",
        "It started after the last automatic update.",
        "The crash report window appears but sending it fails.",
        "The browser version works fine.",
    ], asks=[
        "Can you look into it?",
        "Is there an older version I can install in the meantime?",
    ]),
    dict(label="bug", weight=5, subjects=[
        "Error when saving", "Getting \"{error}\"", "{error}", "Error message on {area}",
        "Can't save changes - error", "Error in {area} since this morning",
    ], openers=[
        "When I try to save changes in the {area} I get \"{error}\".",
        "Since this morning the {area} shows \"{error}\" for everyone in our team.",
        "I get the error \"{error}\" whenever I open the {area} in {browser}.",
    ], details=[
        "I'm using {browser} on {os}.",
        "It started around {time} today.",
        "Incognito mode gives the same error.",
        "Nothing changed on our side as far as I know.",
        "The same action works from the API, just not in the UI.",
        "We have a client demo tomorrow so this is quite urgent.",
    ], asks=[
        "Can you check what's going on?",
        "Please advise, this is blocking our work.",
        "Is this a known issue? Any ETA on a fix?",
    ]),
    dict(label="bug", weight=2, subjects=[
        "{integration} integration error", "{integration} stopped working",
        "Integration failing with \"{error}\"",
    ], openers=[
        "Our {integration} integration stopped working and the log says \"{error}\".",
        "Since {date} every sync to {integration} fails with \"{error}\".",
    ], details=[
        "Disconnecting and reconnecting the integration did not help.",
        "Nothing changed in our {integration} account.",
        "The integration settings page shows it as connected.",
    ], asks=[
        "Can you check the logs on your end?",
        "Is this a known issue with {integration}?",
    ]),
    dict(label="bug", weight=2, subjects=[
        "{format} export is empty", "Export not working", "Can't export {report} report",
    ], openers=[
        "Exporting the \"{report}\" report to {format} produces an empty file.",
        "The {format} export of the \"{report}\" report downloads, but the file is 0 KB.",
    ], details=[
        "The report itself shows data on screen.",
        "I tried in {browser} and in another browser, same result.",
        "We need this export every Monday for our management meeting.",
    ], asks=[
        "Could you fix this or send us the data some other way?",
        "Please help, our reporting depends on it.",
    ]),
    dict(label="bug", weight=2, subjects=[
        "Export fails for large reports", "{format} export error", "Export limit?",
    ], openers=[
        "The {format} export fails with \"{error}\" once the report has more than {rows} rows.",
    ], details=[
        "Smaller exports with a few hundred rows work fine.",
        "Splitting the export by month is a workaround but takes ages.",
        "The numbers we can export don't match what the dashboard shows.",
    ], asks=[
        "Is there a limit on export size we should know about?",
        "Could you fix this or send us the data some other way?",
    ]),
    dict(label="bug", weight=1, subjects=[
        "CSV export broken characters", "Garbled names in CSV export", "Encoding issue in export",
    ], openers=[
        "When I open the exported CSV in Excel all accented names are garbled.",
    ], details=[
        "In the app the names look correct.",
        "A colleague on a Mac sees the same problem.",
    ], asks=["Can you export with a UTF-8 BOM or add an option for it?"]),
    dict(label="bug", weight=1, subjects=["Report export stuck", "Export never finishes"], openers=[
        "The export of the \"{report}\" report has been \"processing\" for over an hour and "
        "never finishes.",
    ], details=[
        "I started it twice and both are stuck.",
        "There is no way to cancel it from the UI.",
    ], asks=["Can you check what's happening?"]),
    dict(label="bug", weight=5, subjects=[
        "Very slow", "Dashboard takes forever to load", "Performance issues",
        "{area} extremely slow", "Pages loading slowly since last week", "Timeouts",
    ], openers=[
        "The {area} takes {seconds} seconds to load, it used to be instant.",
        "Since last week everything in the app is very slow for our team.",
        "Searching in the {area} times out for projects with a lot of items.",
        "Loading the {area} now takes about {seconds} seconds and sometimes times out.",
    ], details=[
        "Our internet connection is fine, other sites are fast.",
        "It's worst in the morning between 9 and 11 our time.",
        "We have around {rows} records in that workspace.",
        "Colleagues in another office see the same thing.",
        "The browser console shows a lot of requests that take over 10 seconds.",
    ], asks=[
        "Is there something on your side causing this?",
        "Can you investigate? It's hurting productivity.",
        "Please let us know if there's anything we can do to speed it up.",
    ]),
    dict(label="bug", weight=2, subjects=[
        "Notifications not arriving", "Emails not being sent", "No more email notifications",
    ], openers=[
        "We stopped receiving email notifications on {date}.",
        "Nobody on our team gets email notifications anymore, the last one came on {date}.",
    ], details=[
        "Notification settings are all turned on and nothing is in our spam folder.",
        "In-app notifications still work, only email is affected.",
        "This is affecting everyone in the workspace.",
    ], asks=[
        "Can you check the logs on your end?",
        "Please let me know what information you need from us.",
    ]),
    dict(label="bug", weight=1, subjects=["Webhooks not firing", "Webhook deliveries stopped"],
         openers=[
        "Our webhooks stopped firing, our endpoint logs show no requests since {date}.",
    ], details=[
        "Our endpoint returns 200 and we haven't changed anything.",
        "The webhook settings page shows no failed deliveries either.",
    ], asks=["Can you check the delivery logs on your side?"]),
    dict(label="bug", weight=2, subjects=[
        "{integration} sync creates duplicates", "Calendar sync duplicates events",
        "Data duplicated after sync",
    ], openers=[
        "After syncing with {integration}, about {rows} items are duplicated.",
        "Every event synced from {integration} now shows up twice.",
    ], details=[
        "It started after we reconnected the integration on {date}.",
        "Deleting the duplicates doesn't help, they come back on the next sync.",
    ], asks=["Please fix the sync and clean up the duplicates."]),
    # ---------------------------------------------------------------- feature_request
    dict(label="feature_request", weight=8, subjects=[
        "Feature request: {feature}", "Suggestion - {feature}", "Any plans for {feature}?",
        "Would love {feature}", "Idea: {feature}", "Please add {feature}", "Roadmap question",
    ], openers=[
        "It would be great if you could add {feature}.",
        "Are there any plans to support {feature}? It's the one thing we're missing.",
        "Our team would really benefit from {feature}.",
        "Feature idea: {feature}. Right now we use a spreadsheet as a workaround.",
    ], details=[
        "We're on the {plan} plan with {seats} users and would pay more for this.",
        "Several of your competitors already have this.",
        "Right now we spend a couple of hours a week doing this manually.",
        "Even a basic version would help a lot.",
        "I found an old thread in your community forum asking for the same thing.",
        "Our {team} team brought this up in our last retro.",
    ], asks=[
        "Is this on the roadmap?",
        "Thanks for considering it!",
        "Happy to jump on a call to explain our use case.",
        "Let me know if you need more details on how we'd use it.",
    ]),
    dict(label="feature_request", weight=2, subjects=[
        "Request: {integration} integration", "{integration} integration?",
        "Integration with {integration}",
    ], openers=[
        "Could you add a native {integration} integration? We currently copy things by hand.",
        "Do you have plans for an integration with {integration}?",
    ], details=[
        "We tried doing it through Zapier but it's fragile.",
        "Most of our {team} team lives in {integration} all day.",
        "We'd be happy to beta test it.",
    ], asks=["Is this on the roadmap?", "Thanks for considering it!"]),
    # ---------------------------------------------------------------- account
    dict(label="account", weight=5, subjects=[
        "Password reset not working", "Can't reset my password", "Locked out of my account",
        "Forgot password", "Can't log in",
    ], openers=[
        "I requested a password reset three times but the email never arrives.",
        "The password reset link says it has expired even though I clicked it right away.",
        "I'm locked out after too many login attempts and the reset page gives \"{error}\".",
        "I forgot my password and the reset email goes to an address I no longer have.",
    ], details=[
        "My username is {email}.",
        "I need to get in today to approve invoices for my team.",
        "I tried on {browser} and on my phone.",
    ], asks=[
        "Can you help me get back into my account?",
        "Please send a new reset link or reset it manually.",
    ]),
    dict(label="account", weight=4, subjects=[
        "SSO setup with {idp}", "SAML login failing", "{idp} SSO not working",
        "Single sign-on question", "SSO help needed",
    ], openers=[
        "We're setting up SAML SSO with {idp} and users get \"{error}\" after signing in.",
        "After we rotated the certificate in {idp}, nobody can log in with SSO.",
        "How do we enforce SSO for everyone and disable password logins?",
        "New users created in {idp} are not being provisioned in the workspace.",
    ], details=[
        "We're on the {plan} plan, which I believe includes SSO.",
        "I've double-checked the ACS URL and entity ID against your docs.",
        "We have {seats} employees who need access by Monday.",
    ], asks=[
        "Can someone from your team help us troubleshoot?",
        "What are we missing in the configuration?",
        "Please advise on the correct settings.",
    ]),
    dict(label="account", weight=3, subjects=[
        "Lost my phone - 2FA", "Two-factor authentication problem", "Reset 2FA please",
        "2FA codes not accepted", "Can't log in because of 2FA",
    ], openers=[
        "I got a new phone and can no longer generate 2FA codes for my account.",
        "The 2FA codes from my authenticator app are rejected every time.",
        "My phone was stolen and my backup codes aren't accepted either, I'm completely "
        "locked out.",
    ], details=[
        "The clock on my phone is set automatically, so it shouldn't be a time issue.",
        "I'm the account owner so nobody else can reset it for me.",
        "I can verify my identity with the last four digits of the card, {card}.",
    ], asks=[
        "Can you reset two-factor on my account?",
        "What's the process to recover access?",
    ]),
    dict(label="account", weight=1, subjects=[
        "Disable two-factor for a user", "Colleague locked out by 2FA",
    ], openers=[
        "One of our team members lost their phone and can't log in because of 2FA.",
    ], details=["I'm an admin on the workspace.", "Their email is {colleague_email}."], asks=[
        "Please disable 2FA for them so they can set it up again.",
    ]),
    dict(label="account", weight=4, subjects=[
        "Delete my account", "Account deletion request", "GDPR data deletion",
        "Please close my account", "Remove all my data", "Close account and delete data",
    ], openers=[
        "Please delete my account and all associated data.",
        "Under GDPR I'm requesting the deletion of all personal data you hold about me.",
        "We're closing down the business and want the workspace and all data removed.",
        "I want to delete my account, but there is no delete button in the settings.",
    ], details=[
        "My account email is {email}.",
        "Please also make sure no further charges are made to my card.",
        "I'd like a copy of my data before it's deleted if possible.",
        "We've already exported everything we need.",
    ], asks=[
        "Please confirm when this is done.",
        "How long does the deletion take?",
        "Let me know if you need anything else from me.",
    ]),
    dict(label="account", weight=1, subjects=["Change account email", "Update login email"],
         openers=[
        "I need to change the email on my account from {email} to {new_email}.",
    ], details=["I still have access to both addresses."], asks=[
        "What do you need from me to make this change?",
    ]),
    dict(label="account", weight=1, subjects=[
        "Transfer ownership of workspace", "Change account owner", "Owner left the company",
    ], openers=[
        "Our workspace owner has left the company. How do we transfer ownership to me?",
    ], details=["The previous owner's email no longer receives mail.",
                "I'm an admin on the workspace already."], asks=[
        "Please help us sort this out.",
    ]),
    dict(label="account", weight=1, subjects=["Merge two accounts", "Duplicate accounts"],
         openers=[
        "I accidentally created two accounts, one with {email} and one with my personal email, "
        "and would like to merge them.",
    ], details=["Most of my projects are in the older account."], asks=[
        "Is that possible?",
    ]),
    dict(label="account", weight=1, subjects=["Can't invite new user", "Invite button disabled"],
         openers=[
        "I can't invite a new colleague, the invite button is greyed out.",
    ], details=["We still have {seats} seats available on our {plan} plan.",
                "I'm an admin on the workspace."], asks=[
        "What am I missing?",
    ]),
    # ---------------------------------------------------------------- other
    dict(label="other", weight=2, subjects=["Thank you!", "Great support", "Kudos to {agent}"],
         openers=[
        "Just wanted to say thanks to {agent} from your team who helped us last week.",
        "No issue today, just wanted to say the new {area} is a big improvement.",
    ], details=["Your product has made our weekly planning so much easier.",
                "We've recommended you to two other companies already."], asks=[
        "Keep up the good work!",
    ]),
    dict(label="other", weight=1, subjects=["Partnership inquiry", "Reseller program?"],
         openers=[
        "We're an agency working with {company} and would like to discuss a partnership.",
        "Do you have a reseller or referral program for consultants?",
    ], details=["We implement tools like yours for about 40 clients a year.",
                "We're based in {country}."], asks=[
        "Who would be the right person to talk to?",
    ]),
    dict(label="other", weight=2, subjects=[
        "Security questionnaire", "SOC 2 report", "Vendor security review",
    ], openers=[
        "Our procurement team needs you to fill out a security questionnaire before we sign.",
        "Do you have a SOC 2 report you can share under NDA?",
    ], details=["We're currently evaluating three vendors.",
                "The questionnaire has about 80 questions, mostly standard.",
                "Our legal team also asked for your list of subprocessors."], asks=[
        "Could you point me in the right direction?", "Looking forward to hearing from you.",
    ]),
    dict(label="other", weight=1, subjects=["Where is your data hosted?",
                                            "Data residency question"], openers=[
        "Is customer data stored in the EU? We need this for our data protection assessment.",
    ], details=["We're based in {country}.", "A DPA would also be needed."], asks=[
        "Could you point me in the right direction?",
    ]),
    dict(label="other", weight=1, subjects=["Do you offer discounts for non-profits?",
                                            "Education pricing"], openers=[
        "Do you offer discounts for non-profits or schools?",
    ], details=["We're a registered charity with {seats} staff."], asks=[
        "Looking forward to hearing from you.",
    ]),
    dict(label="other", weight=1, subjects=["Interview request", "Press inquiry"], openers=[
        "I'm writing an article about remote work tools and would love to interview someone "
        "from your team.",
    ], details=["The piece will run in {month}."], asks=["Who would be the right person?"]),
    dict(label="other", weight=1, subjects=["Question", "Hello", "Quick question"], openers=[
        "I think I received one of your emails by mistake, I've never signed up for anything.",
        "Is your office open during the holidays? I'd like to drop off some documents.",
        "Are you hiring? I'd love to work on the support team.",
    ], details=["Sorry if this is the wrong address."], asks=["Thanks!"]),
]

GREETINGS = ["Hi,", "Hello,", "Hi there,", "Hello support team,", "Hey,", "Good morning,",
             "Dear support,", "Hi {agent},", "To whom it may concern,"]
SIGNOFFS = ["Thanks,\n{name}", "Best regards,\n{name}\n{company}", "Cheers,\n{first}",
            "Thank you,\n{name}", "Regards,\n{name}", "Thanks in advance!\n{first}",
            "Kind regards,\n{name}\n{title}, {company}"]
TITLES = ["Office Manager", "CTO", "Operations Lead", "Finance Manager", "Founder",
          "IT Administrator", "Project Manager", "Head of Support", "Accountant"]
TEAMS = ["sales", "engineering", "marketing", "operations", "finance", "design", "support"]
FILLERS = [
    "We've been customers for about {years} years and this is the first real issue we've had.",
    "I already searched your help center but couldn't find anything about this.",
    "This is affecting {seats} people on our team.",
    "Sorry if this has been asked before.",
    "I'd appreciate a quick reply, we're a bit stuck.",
    "For context, we're a team of {seats} at {company}.",
    "I tried the chat first but nobody was online.",
    "This is my second message about this, I didn't get a reply to the first one.",
    "Our account is under {email}.",
]
# Background for the long, rambling tickets every queue gets.
STORY = [
    "Some background: we moved to you from a spreadsheet-based process about {years} years ago, "
    "and our {team} team now works in it every day.",
    "We rolled the product out to the whole company in {month}, so a lot of people who are not "
    "very technical depend on it now.",
    "I've spent most of the morning on this instead of my actual job, which is why I'm writing "
    "in a bit of a hurry.",
    "Our {team} lead asked me to escalate this because it keeps coming up in our weekly meeting.",
    "The help article about this still shows screenshots of the old interface, which made it "
    "harder to figure out what is going on.",
    "To be clear, we like the product a lot and have recommended it to other companies, so I'd "
    "really like to get this sorted out.",
    "We are also evaluating the {plan_up} plan for next year, and how this gets handled will "
    "factor into that decision.",
    "The account was set up by a colleague who has since left, so some settings may have been "
    "configured before my time.",
]
POSTSCRIPTS = [
    "P.S. Your status page didn't show any incident at the time.",
    "P.S. Please reply to this address, I don't check the other one often.",
    "P.S. Feel free to call me if that's faster.",
    "P.S. The form wouldn't let me attach the screenshot, I can send it separately.",
]
CHAT_LINES = [
    "hi, quick question", "hello?", "is anyone there", "ok thanks", "one more thing",
    "still waiting", "sorry, wifi dropped",
]

# --------------------------------------------------------------------------- international

CLOSINGS = {
    "de": ["Vielen Dank im Voraus und viele Grüße", "Mit freundlichen Grüßen"],
    "fr": ["Merci d'avance et bonne journée", "Cordialement"],
    "es": ["Muchas gracias, un saludo", "¡Gracias de antemano!"],
    "ja": ["よろしくお願いいたします。"], "pl": ["Z góry dziękuję!"], "da": ["På forhånd tak!"],
    "pt": ["Obrigada desde já!"], "tr": ["Şimdiden teşekkürler!"], "cs": ["Předem děkuji!"],
    "sv": ["Tack på förhand!"],
}
MONTHS_LOCAL = {
    "de": ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
           "Oktober", "November", "Dezember"],
    "es": ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
           "septiembre", "octubre", "noviembre", "diciembre"],
}
EMOJI = ["🙏", "😡", "😅", "👍", "🔥", "💸", "😩", "🤞", "❤️", "🙂"]
INTL_PLACES = ["our Zürich office", "our team in São Paulo", "the Malmö branch",
               "our café in Montréal", "the Kraków office", "our shop in Düsseldorf"]

# Whole tickets written in another language: (language, label, subject, body).
FOREIGN: list[tuple[str, str, str, str]] = [
    ("de", "billing", "Doppelte Abbuchung im {month}",
     "Hallo,\n\nuns wurde am {date} der Betrag von {amount_eur} zweimal abgebucht "
     "(Karte endet auf {card}). Wir haben nur ein Abonnement ({plan}).\n\nBitte erstatten Sie "
     "die doppelte Zahlung.\n\nMit freundlichen Grüßen\n{name}"),
    ("de", "account", "Passwort zurücksetzen funktioniert nicht",
     "Guten Tag, ich habe mehrmals versucht, mein Passwort zurückzusetzen, aber die E-Mail "
     "kommt nie an. Auch im Spam-Ordner ist nichts. Können Sie mir helfen? Danke!"),
    ("de", "bug", "Export schlägt fehl",
     "Hallo Support-Team,\n\nder {format}-Export des Berichts „{report}“ bricht jedes Mal mit "
     "der Meldung „{error}“ ab. Das Problem besteht seit dem Update auf Version {version}.\n\n"
     "Viele Grüße\n{name}"),
    ("de", "feature_request", "Wunsch: Dunkelmodus",
     "Hallo! Wäre es möglich, einen Dunkelmodus einzubauen? Unser Team arbeitet oft abends und "
     "die helle Oberfläche ist sehr anstrengend für die Augen. Danke für Ihre Mühe!"),
    ("fr", "billing", "Facture avec TVA incorrecte",
     "Bonjour,\n\nnotre numéro de TVA intracommunautaire (FR{vat_digits}) est bien "
     "renseigné, mais la facture {invoice} inclut quand même la TVA. Pourriez-vous "
     "corriger la facture et nous rembourser la différence ?\n\nCordialement,\n{name}"),
    ("fr", "account", "Problème d'authentification à deux facteurs",
     "Bonjour, j'ai changé de téléphone et je ne reçois plus les codes de vérification. "
     "Je ne peux plus accéder à mon compte. Que dois-je faire ? Merci d'avance."),
    ("fr", "bug", "L'application plante au démarrage",
     "Depuis la mise à jour {version}, l'application se ferme immédiatement sur mon {device}. "
     "J'ai déjà essayé de la réinstaller, sans succès. C'est très gênant pour mon travail."),
    ("fr", "account", "Suppression de mon compte",
     "Bonjour,\n\nconformément au RGPD, je vous demande de supprimer mon compte ainsi que "
     "toutes mes données personnelles. Merci de me confirmer la suppression.\n\n{name}"),
    ("es", "billing", "Solicitud de reembolso",
     "Hola,\n\ncancelé mi suscripción el {date}, pero me cobraron {amount_eur} igualmente. "
     "¿Podrían devolverme el importe?\n\nMuchas gracias,\n{name}"),
    ("es", "account", "Error al iniciar sesión con SSO",
     "Buenos días. Después de configurar el inicio de sesión único con {idp}, los usuarios "
     "reciben el error «{error}». ¿Nos pueden ayudar a revisar la configuración?"),
    ("es", "bug", "La página tarda muchísimo en cargar",
     "Hola, desde la semana pasada el panel tarda más de {seconds} segundos en cargar. "
     "Nuestra conexión funciona bien con otras páginas. ¿Pasa algo en su servidor?"),
    ("es", "feature_request", "Sugerencia: integración con {integration}",
     "¡Hola! Nos encantaría tener una integración nativa con {integration}. Ahora mismo "
     "copiamos los datos a mano cada semana y perdemos mucho tiempo. ¿Está en sus planes?"),
    ("ja", "billing", "請求書の再発行のお願い",
     "お世話になっております。\n\n{month}分の請求書（{invoice}）の宛名を会社名に変更して、"
     "再発行していただけますでしょうか。\n\nよろしくお願いいたします。\n{name}"),
    ("ja", "bug", "アプリが起動しません",
     "バージョン{version}にアップデートしてから、{device}でアプリを開くとすぐに落ちてしまいます。"
     "再インストールしても直りませんでした。対応をお願いします。"),
    ("ja", "account", "パスワードをリセットできない",
     "パスワードリセットのメールが届きません。迷惑メールフォルダも確認しました。"
     "至急ログインする必要がありますので、ご確認をお願いいたします。"),
]


def _ascii_fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    folded = "".join(c for c in decomposed if not unicodedata.combining(c))
    return folded.replace("ł", "l").replace("Ł", "L").replace("ø", "o").replace("Ø", "O") \
        .replace("\u0131", "i").encode("ascii", "ignore").decode()


def _curly(text: str) -> str:
    """Typographic quotes, as pasted from a word processor."""
    out, open_double = [], True
    for ch in text:
        if ch == '"':
            out.append("\u201c" if open_double else "\u201d")
            open_double = not open_double
        elif ch == "'":
            # An apostrophe or closing quote follows a letter; an opening quote does not.
            out.append("\u2019" if out and out[-1].isalnum() else "\u2018")
        else:
            out.append(ch)
    return "".join(out)


# --------------------------------------------------------------------------- generation


class Customer(NamedTuple):
    name: str
    first: str
    email: str
    lang: str  # language of whole tickets they may write: en, de, fr, es, ja


class _Customers:
    """A pool with a long tail: a few customers write often, most write once."""

    def __init__(self, rng: random.Random, size: int, intl: bool) -> None:
        self.rng = rng
        self.people: list[Customer] = []
        used: set[str] = set()
        while len(self.people) < size:
            lang = "en"
            if intl:
                if rng.random() < 0.2:
                    name, local = rng.choice(JAPANESE_NAMES)
                    first, lang = name, "ja"
                else:
                    first, last, lang = rng.choice(INTL_NAMES)
                    name, local = f"{first} {last}", _ascii_fold(f"{first}.{last}").lower()
            else:
                first, last = rng.choice(FIRST), rng.choice(LAST)
                name = f"{first} {last}"
                local = rng.choice([f"{first}.{last}", f"{first[0]}{last}", f"{first}",
                                    f"{first}_{last}{rng.randint(1, 99)}"]).lower()
            email = f"{local}@{rng.choice(DOMAINS)}"
            if email in used:
                email = f"{local}{rng.randint(2, 999)}@{rng.choice(DOMAINS)}"
            if email in used:
                continue
            used.add(email)
            self.people.append(Customer(name, first, email, lang))
        self.weights = [1.0 / (i + 1) ** 0.6 for i in range(size)]

    def pick(self) -> Customer:
        return self.rng.choices(self.people, weights=self.weights)[0]


def _timestamps(rng: random.Random, count: int) -> list[datetime]:
    """Sorted 2026 timestamps, busier on weekdays and in working hours."""
    start = datetime(2026, 1, 1)
    days = [start + timedelta(days=d) for d in range(365)]
    day_weights = [1.0 if d.weekday() < 5 else 0.35 for d in days]
    hour_weights = [0.2] * 7 + [1, 2, 3, 3, 3, 2.5, 2.5, 3, 3, 2.5, 2, 1.2, 0.8, 0.6, 0.5, 0.4, 0.3]
    stamps = []
    for day in rng.choices(days, weights=day_weights, k=count):
        hour = rng.choices(range(24), weights=hour_weights)[0]
        stamps.append(day + timedelta(hours=hour, minutes=rng.randrange(60),
                                      seconds=rng.randrange(60)))
    return sorted(stamps)


def _slots(rng: random.Random, when: datetime, person: Customer) -> dict[str, str]:
    name, first, email, _lang = person
    plan = rng.choices(PLANS[1:], weights=[3, 4, 3, 1])[0]
    rank = PLANS.index(plan)
    plan_up = rng.choice(PLANS[rank + 1:]) if rank + 1 < len(PLANS) else "a custom contract"
    plan_down = rng.choice(PLANS[:rank])
    seats = rng.choice([2, 3, 5, 8, 10, 12, 15, 20, 25, 40, 60, 120])
    price = PLAN_PRICE[plan] * (seats if rng.random() < 0.6 else 1) * rng.choice([1, 1, 1, 12])
    amount = f"{price:,.2f}"
    country = rng.choice(COUNTRIES)
    vat_digits = str(rng.randint(10**8, 10**9 - 1))
    happened = when - timedelta(days=rng.randint(0, 20))
    last_month = MONTHS[(when.month - 2) % 12]
    local, domain = email.split("@")
    return {
        "name": name, "first": first, "email": email,
        "new_email": f"{local}@{rng.choice([d for d in DOMAINS if d != domain])}",
        "colleague_email": f"{rng.choice(FIRST).lower()}@{domain}",
        "month_no": str((when.month - 2) % 12 + 1),
        "date_month_no": str(happened.month), "day": str(happened.day),
        "company": DOMAIN_COMPANY.get(domain) or rng.choice(COMPANIES), "domain": domain,
        "plan": plan, "plan_up": plan_up, "plan_down": plan_down, "seats": str(seats),
        "amount": rng.choice([f"${amount}", f"USD {amount}", f"{amount} USD", f"EUR {amount}"]),
        "amount_eur": f"{price:.2f} €".replace(".", ","),
        "card": f"{rng.randint(0, 9999):04d}",
        "invoice": f"INV-{happened.year}-{rng.randint(1000, 99999):05d}",
        "po": str(rng.randint(10000, 99999)),
        "date": f"{MONTHS[happened.month - 1]} {happened.day}",
        "month": last_month,
        "time": f"{rng.randint(7, 17)}:{rng.choice(['00', '15', '30', '45'])}",
        "area": rng.choice(AREAS), "feature": rng.choice(FEATURES),
        "integration": rng.choice(INTEGRATIONS), "idp": rng.choice(IDPS),
        "error": rng.choice(ERRORS), "browser": rng.choice(BROWSERS), "os": rng.choice(OSES),
        "device": rng.choice(DEVICES), "format": rng.choice(FORMATS),
        "report": rng.choice(REPORTS), "rows": f"{rng.choice([5, 10, 20, 50, 100]) * 1000:,}",
        "seconds": str(rng.choice([8, 12, 15, 20, 30, 45, 60, 90])),
        "version": f"{rng.randint(3, 5)}.{rng.randint(0, 14)}.{rng.randint(0, 9)}",
        "country": country,
        "vat_digits": vat_digits, "vat_id": f"{VAT_PREFIX[country]}{vat_digits}",
        "agent": rng.choice(AGENTS), "title": rng.choice(TITLES), "team": rng.choice(TEAMS),
        "years": str(rng.randint(2, 7)),
    }


def _english(rng: random.Random, scenario: dict, slots: dict[str, str], channel: str,
             aside: str = "", closing: str = "") -> tuple[str, str]:
    """Compose an English ticket in the style of its channel.

    ``aside`` is appended to the customer's request; ``closing`` replaces the sign-off phrase.
    """
    def f(template: str) -> str:
        return template.format_map(slots)

    opener = f(rng.choice(scenario["openers"]))
    ask = f(rng.choice(scenario["asks"])) + (f" {aside}" if aside else "")
    details = [f(d) for d in rng.sample(scenario["details"],
                                        k=min(len(scenario["details"]), rng.randint(1, 4)))]
    fillers = [f(x) for x in rng.sample(FILLERS, k=3)]

    if channel in ("chat", "phone") and rng.random() < 0.5:
        subject = (f"Chat with {slots['first']}" if channel == "chat"
                   else f"Inbound call - {slots['name']}")
    else:
        subject = f(rng.choice(scenario["subjects"]))

    if channel == "chat":
        style = rng.random()
        if style < 0.45:  # one line, typed fast
            body = f"{opener} {ask}"
            if rng.random() < 0.5:
                body = body.lower().rstrip(".")
        else:  # a short transcript
            lines = [f"Customer: {rng.choice(CHAT_LINES)}", f"Customer: {opener}"]
            lines += [f"Customer: {d}" for d in details[:2]]
            lines.append(f"Agent ({slots['agent']}): Thanks, let me look into that.")
            lines.append(f"Customer: {ask}")
            body = "\n".join(lines)
    elif channel == "phone":
        notes = [f"Call notes ({slots['agent']}): caller {slots['name']}, {slots['company']}.",
                 f"Issue: {opener}"]
        notes += details[: rng.randint(0, 2)]
        notes.append(f"Customer asked: {ask}")
        notes.append(rng.choice(["Told them we'd follow up by email.",
                                 "Escalated to tier 2.", "Promised a callback tomorrow.",
                                 "Could not resolve on the call."]))
        body = "\n".join(notes)
    else:  # email and web form
        verbosity = rng.random()
        if verbosity < 0.2:
            body = f"{opener} {ask}"
        elif verbosity < 0.65:
            body = " ".join([opener, *details[:2], ask])
        else:
            paragraphs = [" ".join([opener, details[0]])]
            if len(details) > 1:
                paragraphs.append(" ".join(details[1:]))
            if verbosity > 0.85:  # the long ones
                paragraphs.append(" ".join(f(x) for x in rng.sample(STORY, k=rng.randint(2, 3))))
            paragraphs.append(" ".join([*fillers[: rng.randint(0, 2)], ask]).strip())
            body = "\n\n".join(paragraphs)
        if channel == "email" or rng.random() < 0.3:
            if rng.random() < 0.75:
                body = f"{f(rng.choice(GREETINGS))}\n\n{body}"
            if closing:
                body = f"{body}\n\n{closing}\n{slots['name']}"
            elif rng.random() < 0.8:
                body = f"{body}\n\n{f(rng.choice(SIGNOFFS))}"
                if verbosity > 0.85 and rng.random() < 0.4:
                    body = f"{body}\n\n{rng.choice(POSTSCRIPTS)}"
        if channel == "web" and rng.random() < 0.3:
            # Web-form topic picked by the customer: usually right, sometimes not.
            topic = scenario["label"] if rng.random() < 0.75 else rng.choice(
                ["billing", "technical issue", "account", "other", "sales"])
            body = f"Topic: {topic.replace('_', ' ')}\n{body}"

    # Pad short bodies and trim long ones, keeping the ticket's own sentences.
    extra = [x for x in fillers if x not in body]
    while len(body) < MIN_BODY and extra:
        body = f"{body} {extra.pop()}"
    while len(body) > MAX_BODY and "\n\n" in body:
        head, _, rest = body.partition("\n\n")
        middle, _, tail = rest.rpartition("\n\n")
        body = f"{head}\n\n{tail}" if middle else head
    return subject, body[:MAX_BODY]


def _international(rng: random.Random, scenario: dict, slots: dict[str, str], channel: str,
                   lang: str) -> tuple[str, str]:
    """A ticket with non-ASCII text: another language, or English with accents and emoji."""
    own = [t for t in FOREIGN if t[0] == lang]
    if own and channel in ("email", "web") and rng.random() < 0.7:
        _lang, _label, subject, body = rng.choice(own)
        month, date_month, day = (int(slots[k]) for k in ("month_no", "date_month_no", "day"))
        if lang == "ja":
            local = {"month": f"{month}月", "date": f"{date_month}月{day}日"}
        elif lang in MONTHS_LOCAL:
            names = MONTHS_LOCAL[lang]
            sep = ". " if lang == "de" else " de "
            local = {"month": names[month - 1], "date": f"{day}{sep}{names[date_month - 1]}"}
        else:
            local = {}
        slots = {**slots, **local}
        return subject.format_map(slots), body.format_map(slots)
    slots = {**slots,
             "amount": rng.choice([slots["amount_eur"], slots["amount"].replace("$", "£"),
                                   slots["amount"]]),
             "company": rng.choice([slots["company"], "Café Lumière", "Müller & Söhne GmbH",
                                    "Nørrebro Design", "Estudio Peña"])}
    tweaks = rng.sample(["closing", "emoji", "curly", "place"], k=rng.randint(1, 2))
    aside = []
    if "place" in tweaks:
        aside.append(f"This is for {rng.choice(INTL_PLACES)}.")
    if "emoji" in tweaks:
        aside.append(rng.choice(EMOJI))
    closing = rng.choice(CLOSINGS[lang]) if "closing" in tweaks else ""
    subject, body = _english(rng, scenario, slots, channel, " ".join(aside), closing)
    if "emoji" in tweaks and rng.random() < 0.4:
        subject = f"{subject} {rng.choice(EMOJI)}"
    if "curly" in tweaks:
        subject, body = _curly(subject), _curly(body)
    if body.isascii() and subject.isascii():  # e.g. curly quotes in a text without quotes
        body = f"{body} {rng.choice(EMOJI)}"
    return subject, body[:MAX_BODY]


def generate(rows: int = 1200, seed: int = 7) -> list[dict[str, object]]:
    """Return ``rows`` tickets as dicts keyed by COLUMNS, deterministically for ``seed``."""
    rng = random.Random(seed)
    customers = _Customers(rng, max(1, rows * 2 // 3), intl=False)
    intl_customers = _Customers(rng, max(1, rows // 30), intl=True)
    stamps = _timestamps(rng, rows)
    channels, channel_weights = ["email", "web", "chat", "phone"], [40, 30, 20, 10]
    weights = [s["weight"] for s in SCENARIOS]

    tickets: list[dict[str, object]] = []
    for ticket_id, when in enumerate(stamps, start=1):
        intl = rng.random() < NON_ASCII_RATE
        person = (intl_customers if intl else customers).pick()
        channel = rng.choices(channels, weights=channel_weights)[0]
        scenario = rng.choices(SCENARIOS, weights=weights)[0]
        slots = _slots(rng, when, person)
        if intl:
            subject, body = _international(rng, scenario, slots, channel, person.lang)
        else:
            subject, body = _english(rng, scenario, slots, channel)
        tickets.append({"ticket_id": ticket_id, "created_at": when.isoformat(timespec="seconds"),
                        "customer_email": person.email, "channel": channel,
                        "subject": subject, "body": body})

    # Exact resubmissions: the same text again under a new ticket_id by the same customer
    # shortly afterwards (impatient, or once by email and once via the web form). Short
    # template-only tickets already collide now and then; top up to the target rate.
    target = min(round(rows * DUPLICATE_RATE), rows - 1)
    while _count_duplicates(tickets) < target:
        index = rng.randrange(1, rows)
        source = tickets[rng.randrange(max(0, index - 25), index)]
        for column in ("customer_email", "subject", "body"):
            tickets[index][column] = source[column]
    return tickets


def _count_duplicates(tickets: list[dict[str, object]]) -> int:
    """Tickets whose subject+body pair already appeared under an earlier ticket_id."""
    seen: set[tuple[object, object]] = set()
    count = 0
    for t in tickets:
        pair = (t["subject"], t["body"])
        count += pair in seen
        seen.add(pair)
    return count


def write_csv(tickets: list[dict[str, object]], out: Path) -> None:
    """RFC 4180 CSV: every text field quoted, so commas, quotes and newlines survive readers."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, quoting=csv.QUOTE_NONNUMERIC,
                                lineterminator="\n")
        writer.writeheader()
        writer.writerows(tickets)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1200, help="number of tickets (1200)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (7)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output CSV path")
    args = parser.parse_args(argv)
    if args.rows < 1:
        parser.error("--rows must be at least 1")
    tickets = generate(args.rows, args.seed)
    write_csv(tickets, args.out)
    duplicates = _count_duplicates(tickets)
    non_ascii = sum(not (str(t["subject"]) + str(t["body"])).isascii() for t in tickets)
    print(f"wrote {len(tickets)} tickets to {args.out} "
          f"({duplicates} duplicate subject+body, {non_ascii} non-ASCII)")


if __name__ == "__main__":
    main()
