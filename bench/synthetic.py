"""Synthetic support tickets generated inside DuckDB, in one SQL statement.

Python never touches a row, so a million tickets take seconds. Every choice is
``hash(row, seed, salt)`` (DuckDB's hash is deterministic for a given DuckDB version), so the
same seed, start and count always give the same table. Tickets look like those of
``scripts/generate_tickets.py``: four channels with their own shapes, five kinds of problem, bodies
of roughly 450 characters on average, about 2% exact duplicate subject+body, a few percent
non-ASCII (names, currencies, emoji).
"""

from __future__ import annotations

from typing import Any

import duckdb

#: Share of tickets (per mille) that repeat an earlier ticket's subject and body word for word.
DUPLICATE_PER_MILLE = 20
#: Share of tickets (per mille) written by a customer with a non-ASCII name.
NON_ASCII_PER_MILLE = 40

CHANNELS = ["email", "email", "email", "email", "web", "web", "web", "chat", "chat", "phone"]

# Per kind of ticket (billing, bug, feature_request, account, other): subjects, openers,
# supporting details and what the customer asks for. {slots} are filled per ticket.
SUBJECTS = [
    ["Charged twice this month", "Double charge on card ending {card}",
     "Invoice {invoice} looks wrong", "Refund for {amount}?", "VAT missing on invoice",
     "Why was I billed {amount}?", "Downgrade not reflected on my bill"],
    ["{area} broken since update", "Error when opening the {area}", "{error}",
     "Export keeps failing", "App crashes on {device}", "{area} is very slow",
     "Data missing from {area}"],
    ["Feature request: {feature}", "Any plans for {feature}?", "Please add {feature}",
     "{integration} integration", "Suggestion for the {area}", "Would love {feature}"],
    ["Cannot log in", "Change the account owner", "SSO with {idp} not working",
     "Locked out after password reset", "Delete my account", "Add a seat for a colleague",
     "2FA codes rejected"],
    ["Question about your security policy", "Partnership inquiry", "Where is your DPA?",
     "Compliments to {agent}", "Office hours over the holidays", "Data residency question"],
]
OPENERS = [
    ["I was charged {amount} twice on {date} for the same {plan} subscription.",
     "Invoice {invoice} shows {amount} but our plan is {plan} with {seats} seats.",
     "We downgraded to {plan} last month and were still billed {amount}.",
     "Our finance team cannot reconcile invoice {invoice}; the VAT line is missing.",
     "The card ending {card} was charged {amount} although we cancelled on {date}."],
    ["Since version {version} the {area} shows {error} every time I open it.",
     "The {area} has been loading for over {seconds} seconds and then fails with {error}.",
     "Exporting the {report} report to {format} stops halfway with no message.",
     "On {device} with {os} the app closes as soon as I open the {area}.",
     "Entries I saved on {date} no longer appear in the {area}."],
    ["It would help us a lot if you supported {feature}.",
     "Our team of {seats} would like {feature} in the {area}.",
     "Is {feature} on the roadmap? We currently work around it with {integration}.",
     "A native {integration} integration would save us hours every week.",
     "Could the {area} get {feature}? Our competitor's tool has it."],
    ["I cannot log in since {date}; the page just says {error}.",
     "Please move the account owner role from me to {colleague}.",
     "Our SSO with {idp} stopped working after we rotated the certificate.",
     "I reset my password and now the two-factor codes are rejected.",
     "We need to add {colleague} to the {plan} workspace without a new invoice."],
    ["We are reviewing vendors and need your latest security documentation.",
     "Could you tell us where our data is stored and whether it stays in the EU?",
     "{agent} was incredibly helpful last week and I wanted to say thanks.",
     "We are a {company} partner and would like to discuss a reseller agreement.",
     "Are you open over the holidays, and how fast do you answer tickets then?"],
]
DETAILS = [
    ["Our account is on the {plan} plan with {seats} seats, billed monthly.",
     "The second charge appeared a day later with the same reference number.",
     "Our accountant needs a corrected invoice before the end of the month.",
     "We are based in {country} and our VAT number is on file.",
     "Nobody on our side changed anything in the billing settings.",
     "The bank statement shows both payments as settled, not pending."],
    ["I tried {browser} and another browser and cleared the cache, same result.",
     "Colleagues on {os} see the same thing, so it is not just my machine.",
     "It worked fine until the update on {date}.",
     "The console shows {error} right before the page goes blank.",
     "We have about {rows} rows in that project, if that matters.",
     "Restarting the app and logging out and in again did not help."],
    ["Right now we export to {format} and rebuild it by hand every week.",
     "Several customers of ours asked for this in the last quarter.",
     "We would happily test an early version if that helps.",
     "Other tools we use, like {integration}, already offer this.",
     "It does not need to be fancy; the basic version would already help.",
     "This is the main reason some of the team still use spreadsheets."],
    ["My email address is {email}, in case you need to look it up.",
     "I am the only admin on the account, so nobody else can reset it.",
     "The login page accepts the password and then sends me back to the start.",
     "Our IT team confirmed the {idp} side is configured as your guide says.",
     "We have {seats} people waiting to get back into the workspace.",
     "I already tried the recovery link twice; it expires immediately."],
    ["We are a team of {seats} at {company} and have used the product for years.",
     "Nothing is urgent, we just want to plan ahead.",
     "Our legal team asked for this before the contract renewal.",
     "A short call would also work if that is easier for you.",
     "Please forward this to the right person if it is not for support.",
     "We mainly use the {area} and the {integration} integration."],
]
ASKS = [
    ["Please refund the duplicate charge.", "Can you send a corrected invoice?",
     "Could you explain what the {amount} is for?", "Please fix this before the next cycle."],
    ["Can you look into this today? We are blocked.", "Is this a known issue?",
     "Please let me know when a fix is out.", "Do you need any logs from us?"],
    ["Is this planned, and roughly when?", "Please pass this on to the product team.",
     "Let me know if you need more details about our use case."],
    ["Please restore my access as soon as possible.", "Can you make this change for us?",
     "What do you need from me to verify my identity?"],
    ["Who is the right person to talk to?", "Could you send me the documents?",
     "Thanks in advance for a quick answer."],
]
GREETINGS = ["Hi,", "Hello support team,", "Dear {agent},", "Hi there,", "Good morning,"]
SIGNOFFS = ["Thanks,", "Best regards,", "Kind regards,", "Cheers,", "Many thanks,"]
CHAT_OPENERS = ["hi, anyone there?", "hello", "hey, quick question", "good afternoon"]
FIRST = ["Alex", "Maria", "James", "Priya", "Chen", "Sarah", "David", "Aisha", "Tom", "Emily",
         "Carlos", "Nina", "Omar", "Grace", "Lucas", "Hannah", "Raj", "Olivia", "Ben", "Fatima"]
LAST = ["Smith", "Johnson", "Patel", "Nguyen", "Garcia", "Brown", "Wilson", "Khan", "Lee",
        "Clark", "Lopez", "Martin", "Davies", "Murphy", "Singh", "Taylor", "Okafor", "Walker",
        "Rossi", "Schmidt"]
INTL_NAMES = ["José García", "Zoë Lefèvre", "Björn Müller", "Łukasz Wiśniewski",
              "Søren Østergaard", "Çağla Yılmaz", "Tomáš Dvořák", "佐藤 花子", "Åsa Lindström"]
INTL_TAILS = ["Merci d'avance !", "Vielen Dank und schöne Grüße.", "¡Gracias! 🙏",
              "Tack så mycket.", "よろしくお願いします。", "Dziękuję 😊"]
COMPANIES = ["Northwind Traders", "Globex", "Initech", "Blue Harbor Logistics", "Kestrel Labs",
             "Sunpeak Solar", "Copperleaf Bakery", "Orbit Freight", "Lumen Studio"]
AGENTS = ["Dana", "Luis", "Kate", "Femi", "Jonas", "Ruth", "Theo", "Mina"]
AREAS = ["dashboard", "reports page", "CSV export", "invoice page", "calendar view", "API",
         "mobile app", "team settings", "notifications", "search", "webhooks", "scheduler"]
FEATURES = ["dark mode", "bulk editing", "custom fields", "keyboard shortcuts",
            "recurring reports", "granular permissions", "saved filters", "Gantt charts",
            "two-way calendar sync", "an offline mode", "XLSX export", "per-project budgets"]
INTEGRATIONS = ["Slack", "Microsoft Teams", "Salesforce", "HubSpot", "Zapier", "Jira", "Xero"]
IDPS = ["Okta", "Azure AD", "Google Workspace", "OneLogin", "JumpCloud"]
ERRORS = ["Error 500: Internal Server Error", "ERR_CONNECTION_RESET", "403 Forbidden",
          "429 Too Many Requests", "Something went wrong (code 7719)", "502 Bad Gateway",
          "Request timed out after 30000ms", "Unable to save changes (E3005)"]
BROWSERS = ["Chrome 131", "Firefox 134", "Safari 18.2", "Edge 132"]
OSES = ["Windows 11", "macOS Sequoia", "Ubuntu 24.04", "iOS 18", "Android 15"]
DEVICES = ["iPhone 15", "Pixel 8", "Galaxy S24", "iPad Air", "a Surface Pro"]
PLANS = ["Starter", "Pro", "Business", "Enterprise"]
COUNTRIES = ["Germany", "France", "Ireland", "Spain", "Poland", "Sweden", "Portugal"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]
REPORTS = ["Monthly revenue", "Team utilization", "Client hours", "Invoice aging"]
FORMATS = ["CSV", "PDF", "XLSX", "JSON"]

# bench_pick(list, hash): the element a hash value chooses.
_MACROS = """
create or replace temp macro bench_pick(lst, h) as lst[(h % len(lst))::INTEGER + 1];
"""

_INSERT = """
insert into raw.tickets
with ids as (
    select i,
        -- A duplicate copies the text of one of the 25 tickets before it, and only of one
        -- that is not itself a copy (so the pair is exact).
        i - 1 - (hash(i, $seed, 'back') % least(greatest(i, 1), 25))::BIGINT as back
    from range($start, $start + $count) t(i)
), src as (
    select i,
        case when i > 0 and hash(i, $seed, 'dup') % 1000 < $dup
                  and hash(back, $seed, 'dup') % 1000 >= $dup
             then back else i end as s
    from ids
), slots as (
    select i, s,
        bench_pick($channels, hash(s, $seed, 'channel')) as channel,
        (hash(s, $seed, 'kind') % 5)::INTEGER + 1 as kind,
        hash(s, $seed, 'intl') % 1000 < $intl as intl,
        (hash(s, $seed, 'ndetail') % 4)::INTEGER as ndetail,
        bench_pick($first, hash(s, $seed, 'first')) || ' '
            || bench_pick($last, hash(s, $seed, 'last')) as ascii_name,
        -- Every ticket carries some customer detail, as real ones do: without it, short
        -- tickets of a kind would collide by chance far more often at a million rows.
        (10000 + hash(s, $seed, 'account') % 90000)::VARCHAR as account,
        bench_pick($intl_names, hash(s, $seed, 'iname')) as intl_name,
        bench_pick($agents, hash(s, $seed, 'agent')) as agent,
        bench_pick($companies, hash(s, $seed, 'company')) as company,
        printf('%,.2f', (hash(s, $seed, 'amount') % 500000) / 100.0) as amount_n,
        printf('INV-2026-%05d', hash(s, $seed, 'invoice') % 100000) as invoice,
        printf('%04d', hash(s, $seed, 'card') % 10000) as card,
        bench_pick($months, hash(s, $seed, 'month')) || ' '
            || ((hash(s, $seed, 'day') % 28) + 1)::VARCHAR as date,
        printf('%d.%d.%d', 3 + hash(s, $seed, 'v1') % 3, hash(s, $seed, 'v2') % 15,
               hash(s, $seed, 'v3') % 10) as version,
        ((hash(s, $seed, 'seats') % 60) + 2)::VARCHAR as seats,
        ((hash(s, $seed, 'secs') % 80) + 10)::VARCHAR as seconds,
        printf('%,d', ((hash(s, $seed, 'rows') % 200) + 1) * 1000) as nrows
    from src
), filled as (
    select *,
        case when intl then intl_name else ascii_name end as name,
        case when intl and hash(s, $seed, 'eur') % 2 = 0 then amount_n || ' €'
             else '$' || amount_n end as amount
    from slots
), parts as (
    select i, s, channel, intl, ndetail, name, agent, company, kind, account,
        bench_pick($subjects[kind], hash(s, $seed, 'subject')) as subject_t,
        bench_pick($openers[kind], hash(s, $seed, 'opener')) as opener_t,
        -- 3 to 5 distinct sentences of the ticket's kind (consecutive in the doubled
        -- pool), and in half the tickets one of another kind, as real tickets wander.
        array_to_string(list_slice($details[kind] || $details[kind],
                                   (hash(s, $seed, 'd1') % len($details[kind]))::INTEGER + 1,
                                   (hash(s, $seed, 'd1') % len($details[kind]))::INTEGER
                                   + 3 + ndetail % 3), ' ')
            || case when ndetail >= 2 then ' ' || bench_pick($details[kind % len($details) + 1],
                                                              hash(s, $seed, 'd4'))
                    else '' end as details_t,
        bench_pick($asks[kind], hash(s, $seed, 'ask')) as ask_t,
        bench_pick($greetings, hash(s, $seed, 'greet')) as greeting_t,
        bench_pick($signoffs, hash(s, $seed, 'signoff')) as signoff,
        bench_pick($intl_tails, hash(s, $seed, 'tail')) as intl_tail,
        -- Slot values, in the order of the replace() chain below.
        [amount, invoice, card, date, bench_pick($plans, hash(s, $seed, 'plan')), seats,
         bench_pick($areas, hash(s, $seed, 'area')), bench_pick($errors, hash(s, $seed, 'err')),
         version, seconds, bench_pick($reports, hash(s, $seed, 'report')),
         bench_pick($formats, hash(s, $seed, 'format')),
         bench_pick($devices, hash(s, $seed, 'device')), bench_pick($oses, hash(s, $seed, 'os')),
         bench_pick($features, hash(s, $seed, 'feature')),
         bench_pick($integrations, hash(s, $seed, 'integ')),
         bench_pick($idps, hash(s, $seed, 'idp')),
         lower(replace(ascii_name, ' ', '.')) || '@example.com',
         bench_pick($first, hash(s, $seed, 'colleague')) || ' '
             || bench_pick($last, hash(s, $seed, 'colleague2')),
         bench_pick($countries, hash(s, $seed, 'country')),
         bench_pick($browsers, hash(s, $seed, 'browser')), nrows, agent, company] as v
    from filled
), texts as (
    select i, s, channel, intl, name, agent, company, intl_tail, signoff, account,
        -- chr(31) (unit separator) never occurs in the pools: it joins the parts so that
        -- one replace() chain fills them all.
        concat_ws(chr(31), subject_t, greeting_t, opener_t, details_t, ask_t,
                  bench_pick($chat_openers, hash(s, $seed, 'chat'))) as all_t,
        v
    from parts
), rendered as (
    -- Fill the slots of the concatenated templates at once, then cut them apart again.
    select i, s, channel, intl, name, agent, company, intl_tail, signoff, account,
        replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(
        replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(
        replace(replace(replace(replace(all_t,
            '{amount}', v[1]), '{invoice}', v[2]), '{card}', v[3]), '{date}', v[4]),
            '{plan}', v[5]), '{seats}', v[6]), '{area}', v[7]), '{error}', v[8]),
            '{version}', v[9]), '{seconds}', v[10]), '{report}', v[11]), '{format}', v[12]),
            '{device}', v[13]), '{os}', v[14]), '{feature}', v[15]), '{integration}', v[16]),
            '{idp}', v[17]), '{email}', v[18]), '{colleague}', v[19]), '{country}', v[20]),
            '{browser}', v[21]), '{rows}', v[22]), '{agent}', v[23]), '{company}', v[24])
        as t
    from texts
), split as (
    select i, channel, intl, name, agent, company, intl_tail, signoff, account,
        split_part(t, chr(31), 1) as subject, split_part(t, chr(31), 2) as greeting,
        split_part(t, chr(31), 3) as opener, split_part(t, chr(31), 4) as details,
        split_part(t, chr(31), 5) as ask, split_part(t, chr(31), 6) as chat_opener
    from rendered
)
select i + 1 as ticket_id, channel, subject,
    case channel
        when 'email' then greeting || chr(10) || chr(10) || opener || ' ' || details
            || chr(10) || chr(10) || ask || chr(10) || chr(10) || signoff || chr(10) || name
        when 'web' then 'Name: ' || name || chr(10) || 'Company: ' || company || chr(10)
            || 'Account: ' || account || chr(10) || chr(10) || opener || ' ' || details
            || ' ' || ask
        when 'chat' then 'Visitor: ' || name || chr(10) || 'Customer: ' || chat_opener
            || chr(10) || 'Agent (' || agent || '): Hi, how can I help?' || chr(10)
            || 'Customer: ' || opener || ' ' || details || chr(10) || 'Agent (' || agent
            || '): Thanks, let me look into that.' || chr(10) || 'Customer: ' || ask
        else 'Call notes (' || agent || '): caller ' || name || ', ' || company || ', account '
            || account || '.'
            || chr(10) || 'Issue: ' || opener || chr(10) || details || chr(10)
            || 'Customer asked: ' || ask || chr(10) || 'Told them we''d follow up by email.'
    end || case when intl then ' ' || intl_tail else '' end as body
from split
"""


def _params(seed: int) -> dict[str, Any]:
    return {
        "seed": seed, "dup": DUPLICATE_PER_MILLE, "intl": NON_ASCII_PER_MILLE,
        "channels": CHANNELS, "subjects": SUBJECTS, "openers": OPENERS, "details": DETAILS,
        "asks": ASKS, "greetings": GREETINGS, "signoffs": SIGNOFFS, "first": FIRST, "last": LAST,
        "intl_names": INTL_NAMES, "intl_tails": INTL_TAILS, "companies": COMPANIES,
        "agents": AGENTS, "areas": AREAS, "features": FEATURES, "integrations": INTEGRATIONS,
        "idps": IDPS, "errors": ERRORS, "browsers": BROWSERS, "oses": OSES, "devices": DEVICES,
        "plans": PLANS, "countries": COUNTRIES, "months": MONTHS, "reports": REPORTS,
        "formats": FORMATS, "chat_openers": CHAT_OPENERS,
    }


def create_tickets(con: duckdb.DuckDBPyConnection) -> None:
    """Create an empty ``raw.tickets`` table."""
    con.execute("create schema if not exists raw")
    con.execute("create table raw.tickets (ticket_id BIGINT, channel VARCHAR, "
                "subject VARCHAR, body VARCHAR)")


def insert_tickets(con: duckdb.DuckDBPyConnection, start: int, count: int,
                   seed: int = 7) -> None:
    """Insert tickets ``start + 1`` .. ``start + count`` (ticket_id) into ``raw.tickets``.

    A ticket's text depends only on its own number and the seed, so tickets added later (the
    "new rows" of a rerun) are generated the same way and may duplicate earlier ones.
    """
    con.execute(_MACROS)
    con.execute(_INSERT, {**_params(seed), "start": start, "count": count})


def describe(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Row count, text lengths, duplicate and non-ASCII shares of ``raw.tickets``."""
    row = con.execute("""
        select count(*), avg(length(body)), min(length(body)), max(length(body)),
               avg(length(subject)),
               count(*) - count(distinct (subject, body)),
               count(*) filter (where regexp_matches(subject || body, '[^\x00-\x7F]'))
        from raw.tickets""").fetchone()
    assert row is not None
    rows = int(row[0])
    return {"rows": rows, "avg_body_chars": round(float(row[1] or 0), 1),
            "min_body_chars": int(row[2] or 0), "max_body_chars": int(row[3] or 0),
            "avg_subject_chars": round(float(row[4] or 0), 1),
            "duplicate_rows": int(row[5]), "non_ascii_rows": int(row[6])}
