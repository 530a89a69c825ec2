#!/usr/bin/env python3
"""The console in a real browser: headless Chromium driven over WebDriver (Debian's chromium-driver, selenium
from PyPI) against a running `residency serve`.

Usage: console-browser.py  (configuration in the environment)
  BASE          the server, e.g. http://127.0.0.1:8080
  SHORT_BASE    a second server on another data directory whose console sessions idle out after 1 s
  RESIDENCY     the residency binary (for tokens: tokens create needs the data directory)
  DATA, SHORT_DATA   the two servers' data directories
  SHOTS         where the screenshots go (a directory; created)

Prints one line per check ("ok: ...") and exits non-zero at the first check that fails, saying what was seen.
"""
import json
import os
import subprocess
import sys
import time
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

BASE = os.environ["BASE"]
SHORT_BASE = os.environ["SHORT_BASE"]
RESIDENCY = os.environ["RESIDENCY"]
DATA = os.environ["DATA"]
SHORT_DATA = os.environ["SHORT_DATA"]
SHOTS = os.environ["SHOTS"]
os.makedirs(SHOTS, exist_ok=True)
DRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


# Layout problems are gathered and reported together at the end, so one run shows every page that needs fixing.
layout_problems = []


def check(condition, what, seen=""):
    if not condition:
        print(f"FAILED: {what}" + (f"\n  seen: {str(seen)[:1500]}" if seen != "" else ""), flush=True)
        sys.exit(1)
    print(f"ok: {what}", flush=True)


def token(role, name, data=DATA, tenant=None):
    arguments = [RESIDENCY, "tokens", "create", "--role", role, "--name", name, "--data", data]
    if tenant:
        arguments += ["--tenant", tenant]
    return subprocess.run(arguments, check=True, capture_output=True, text=True).stdout.strip()


def api(method, path, bearer, body=None, base=BASE):
    request = urllib.request.Request(base + path, method=method, headers={"Authorization": f"Bearer {bearer}"})
    if body is not None:
        request.data = json.dumps(body).encode()
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,900", "--lang=en-US", "--disable-extensions"]:
        options.add_argument(argument)
    # The driver is named: selenium never looks for (or downloads) one of its own.
    return webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)


def shoot(driver, name):
    """The whole page at desktop width (1280 px) and at phone width (390 px)."""
    # What a phone shows first (390 x 844), then each whole page.
    driver.set_window_size(390, 844)
    driver.save_screenshot(os.path.join(SHOTS, f"{name}-phone-screen.png"))
    for width, label in [(1280, "desktop"), (390, "phone")]:
        driver.set_window_size(width, 900)
        height = driver.execute_script("return Math.max(document.body.scrollHeight, 600)")
        driver.set_window_size(width, min(height + 120, 8000))
        driver.save_screenshot(os.path.join(SHOTS, f"{name}-{label}.png"))
        if label == "phone":
            # Readable at phone width: nothing wider than the screen makes the page scroll sideways.
            overflow = driver.execute_script(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
            if overflow > 1:
                widest = driver.execute_script("""
                    let found = [];
                    for (const e of document.querySelectorAll('main *, header *')) {
                        const r = e.getBoundingClientRect();
                        if (r.right > document.documentElement.clientWidth + 1) found.push(e.tagName + '.' + e.className + ' ' + Math.round(r.right));
                    }
                    return found.slice(0, 5).join(', ');""")
                layout_problems.append(f"{name}: {overflow} px wider than 390 px ({widest})")
            else:
                print(f"ok: {name} has no sideways scrolling at 390 px", flush=True)
    driver.set_window_size(1280, 900)


def settle(driver, before, seconds=10):
    """Waits until a navigation from page `before` (an element of it) has loaded the next page."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            before.tag_name
        except WebDriverException:
            # The old page has gone. Chromium says so either as a stale element or, when the
            # navigation is caught half-way, as "Node with given id does not belong to the document"
            # (an unknown error); both mean the same here.
            try:
                if driver.execute_script("return document.readyState") == "complete":
                    return
            except WebDriverException:
                pass  # the next document is not scriptable yet; look again
        time.sleep(0.05)


def sign_in(driver, secret, base=BASE):
    driver.get(base + "/console/sign-in")
    field = driver.find_element(By.ID, "token")
    field.send_keys(secret)
    page = driver.find_element(By.TAG_NAME, "html")
    field.send_keys(Keys.ENTER)
    settle(driver, page)
    check(driver.current_url.rstrip("/").endswith("/console"), "signed in lands on the overview",
          driver.current_url + " " + alert_text(driver))


def sign_out(driver):
    page = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.CSS_SELECTOR, "form.signout button").click()
    settle(driver, page)
    check(driver.current_url.endswith("/console/sign-in"), "signed out", driver.current_url)


def alert_text(driver):
    alerts = driver.find_elements(By.CSS_SELECTOR, "[role=alert]")
    return " ".join(a.text for a in alerts)


def no_script_ran(driver, what):
    try:
        text = driver.switch_to.alert.text
        check(False, f"{what}: no script from the data ran", f"an alert said {text!r}")
    except NoAlertPresentException:
        pass
    scripts = driver.execute_script("return document.querySelectorAll('main script, main img').length")
    check(scripts == 0, f"{what}: hostile text made no element", scripts)


# ---- Set up through the API, as the signup flow and a support engineer would.
signup, support, compliance, ops, admin = (token(r, f"browser-{r}") for r in ["signup", "support", "compliance", "ops", "admin"])
hostile_name = 'Acme <img src=x onerror=alert("name")>'
status, body = api("POST", "/v1/tenants", signup, {"name": hostile_name, "plan": "paid", "country": "FR"})
check(status == 201, "tenant A signed up", body)
tenant_a = body["tenant"]["id"]
other_site = "eu-de-frankfurt" if body["tenant"]["site"] != "eu-de-frankfurt" else "eu-ie-dublin"
status, body = api("POST", "/v1/tenants", signup, {"name": "Globex", "plan": "paid", "country": "US"})
check(status == 201, "tenant B signed up", body)
tenant_b = body["tenant"]["id"]
hostile_detail = '<script>alert("justification")</script> INC-42'


def file_request(tenant, detail, staff="s-7"):
    status, body = api("POST", "/v1/access-requests", support, {
        "tenant": tenant, "staff": {"id": staff, "entity": "Residency UK Ltd", "role": "sre", "office": "london"},
        "physical_country": "GB", "justification": "security_incident", "detail": detail,
        "scope": {"data_classes": ["logs"], "mode": "read"}, "hours": 2})
    check(status == 201 and body["access_request"]["state"] == "pending", f"request filed on {tenant}", body)
    return body["access_request"]["id"]


request_a = file_request(tenant_a, hostile_detail)
request_a2 = file_request(tenant_a, "INC-43", staff="s-8")
request_b = file_request(tenant_b, "INC-44", staff="s-9")
status, body = api("POST", f"/v1/tenants/{tenant_a}/migrations", ops, {"to_region": "eu", "to_site": other_site, "reason": "closer to the customer"})
check(status == 201, "a migration requested", body)
tenant_admin = token("compliance", "acme-admin", tenant=tenant_a)

driver = browser()
try:
    # ---- Sign-in page, then a compliance officer's session.
    driver.get(BASE + "/console")
    check(driver.current_url.endswith("/console/sign-in"), "signed out: the console sends to sign-in", driver.current_url)
    shoot(driver, "sign-in")
    sign_in(driver, compliance)
    cookies = driver.get_cookies()
    check(len(cookies) == 1 and cookies[0]["httpOnly"] and cookies[0].get("sameSite") == "Strict"
          and compliance not in json.dumps(cookies), "the browser keeps only an HttpOnly, SameSite=Strict session id", cookies)
    check(driver.find_element(By.CSS_SELECTOR, "svg[role=img]") is not None, "overview shows the map")
    shoot(driver, "overview")

    # ---- The access queue: hostile text is text.
    driver.get(BASE + "/console/access")
    section = driver.find_element(By.ID, f"r-{request_a}").find_element(By.XPATH, "..")
    check(hostile_detail in section.text, "the <script> justification shows as text", section.text)
    no_script_ran(driver, "access page")
    shoot(driver, "access")

    # ---- A form without its CSRF token is refused, and nothing is decided.
    form_b = driver.find_element(By.CSS_SELECTOR, f"form[action='/console/access/{request_b}/approve']")
    driver.execute_script("arguments[0].querySelector('[name=csrf]').remove()", form_b)
    form_b.find_element(By.NAME, "reason").send_keys("no token")
    page = driver.find_element(By.TAG_NAME, "html")
    form_b.find_element(By.CSS_SELECTOR, "button").click()
    settle(driver, page)
    check("did not come from this console" in alert_text(driver), "a form without its CSRF token is refused", driver.page_source[:800])
    status, body = api("GET", f"/v1/access-requests/{request_b}", compliance)
    check(body["access_request"]["state"] == "pending", "nothing decided without the CSRF token", body)

    # ---- Keyboard only: tab to the request's reason field, type, tab to the approve button, press Enter.
    driver.get(BASE + "/console/access")
    driver.find_element(By.TAG_NAME, "body").click()
    approve_form = f"form[action='/console/access/{request_a}/approve']"
    reached = False
    for _ in range(80):
        driver.switch_to.active_element.send_keys(Keys.TAB)
        if driver.execute_script(f"return document.activeElement.matches(\"{approve_form} [name=reason]\")"):
            reached = True
            break
    check(reached, "the approve form's reason field is reached with Tab")
    driver.switch_to.active_element.send_keys("Ticket INC-42 checked")
    for _ in range(3):
        driver.switch_to.active_element.send_keys(Keys.TAB)
        if driver.execute_script(f"return document.activeElement.matches(\"{approve_form} button\")"):
            break
    check(driver.switch_to.active_element.text == "Approve", "Tab reaches the Approve button", driver.switch_to.active_element.text)
    outline = driver.execute_script("return getComputedStyle(document.activeElement).outlineStyle")
    check(outline not in ("", "none"), "the focused button shows a focus outline", outline)
    page = driver.find_element(By.TAG_NAME, "html")
    driver.switch_to.active_element.send_keys(Keys.ENTER)
    settle(driver, page)
    check(f"Request {request_a} approved" in driver.find_element(By.CSS_SELECTOR, "[role=status]").text,
          "approved from the keyboard", driver.page_source[:600])
    status, body = api("GET", f"/v1/access-requests/{request_a}", compliance)
    check(body["access_request"]["state"] == "approved" and body["access_request"]["decided_by"] == "browser-compliance",
          "the API sees the console's approval, decided by the officer", body)
    shoot(driver, "access-after-approval")

    # ---- The support engineer uses the grant; the report for the period shows the access and who approved it.
    status, body = api("POST", "/v1/access-events", support, {
        "request": request_a, "staff_id": "s-7", "physical_country": "GB", "method": "console",
        "resource": "logs/2026-12-01", "data_class": "logs", "mode": "read"})
    check(status in (200, 201), "the grant is used", body)
    driver.get(BASE + "/console/reports")
    shoot(driver, "reports")
    driver.find_element(By.CSS_SELECTOR, "select[name=kind] option[value=cross-border]").click()
    driver.find_element(By.CSS_SELECTOR, "select[name=format] option[value=html]").click()
    page = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.XPATH, "//button[normalize-space()='Show']").click()
    settle(driver, page)
    report = driver.find_element(By.TAG_NAME, "body").text
    check(tenant_a in report and "approved by browser-compliance" in report and hostile_detail in report,
          "the approved access is in the cross-border report, with who approved it",
          driver.page_source[:1500])
    shoot(driver, "report-cross-border")

    # ---- The other pages, for the screenshots and their basics.
    driver.get(BASE + "/console/tenants")
    check(tenant_a in driver.page_source and hostile_name in driver.find_element(By.TAG_NAME, "main").text,
          "the tenants list shows the hostile name as text")
    no_script_ran(driver, "tenants page")
    shoot(driver, "tenants")
    driver.get(BASE + f"/console/tenants/{tenant_a}")
    check("Why it lives there" in driver.page_source, "a tenant's page explains its placement")
    shoot(driver, "tenant")
    driver.get(BASE + "/console/migrations")
    shoot(driver, "migrations")
    time.sleep(1.5)  # a checkpoint is published within the checkpoint interval
    driver.get(BASE + "/console/ledger?index=1")
    check("is proven included" in driver.page_source, "the ledger page proves entry 1", driver.page_source[:800])
    shoot(driver, "ledger")
    sign_out(driver)

    # ---- Operations: file a migration after its policy check, approve it, watch its steps live; a bulk plan.
    sign_in(driver, ops)
    driver.get(BASE + "/console/migrations")
    shoot(driver, "migrations-ops")
    driver.get(BASE + f"/console/migrations/new?tenant={tenant_a}&to_region=us&reason=test")
    check("Refused" in alert_text(driver) and not driver.find_elements(By.XPATH, "//button[normalize-space()='File this migration']"),
          "a move the policy refuses is shown refused before filing, with no button to file it", alert_text(driver))
    driver.get(BASE + "/console/migrations")
    driver.find_element(By.ID, "m-tenant").send_keys(tenant_b)
    driver.find_element(By.CSS_SELECTOR, "#m-region option[value=uk]").click()
    driver.find_element(By.ID, "m-reason").send_keys("customer <b>asked</b>")
    page = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.XPATH, "//button[normalize-space()='Check against the policy']").click()
    settle(driver, page)
    verdict = driver.find_element(By.CSS_SELECTOR, "[role=status]").text
    check("Allowed under policy" in verdict and "transfer under" in verdict, "the policy check is shown before filing", verdict)
    shoot(driver, "migration-preview")
    page = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.XPATH, "//button[normalize-space()='File this migration']").click()
    settle(driver, page)
    check("/console/migrations/mg_" in driver.current_url and driver.find_element(By.ID, "migration-state").text == "requested",
          "filed: the migration's page shows it requested", driver.current_url + " " + alert_text(driver))
    migration = driver.current_url.rsplit("/", 1)[1]
    status, body = api("GET", f"/v1/migrations/{migration}", ops)
    check(status == 200 and body["migration"]["requested_by"] == "browser-ops" and body["migration"]["reason"] == "customer <b>asked</b>",
          "the API sees the console's filing, by the ops token", body)
    page = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.XPATH, "//button[normalize-space()='Approve']").click()
    settle(driver, page)
    check(driver.current_url.endswith(f"/console/migrations/{migration}"), "approved: back on the migration's page", driver.current_url)
    loaded = driver.find_element(By.TAG_NAME, "html")
    deadline = time.time() + 60
    while time.time() < deadline and driver.find_element(By.ID, "migration-state").text != "completed":
        time.sleep(0.25)
    check(driver.find_element(By.ID, "migration-state").text == "completed", "live.js shows the migration completing",
          driver.find_element(By.TAG_NAME, "main").text)
    loaded.tag_name  # the same document: the page was updated in place, not reloaded
    steps = driver.find_elements(By.CSS_SELECTOR, "table[data-live] tbody tr")
    check(len(steps) >= 4, "its steps were added live", len(steps))
    check("Finished" in driver.find_element(By.ID, "live-status").text, "the live status says it finished")
    shoot(driver, "migration")
    driver.get(BASE + "/console/migrations/plan?from=eu&to=us")
    summary = driver.find_element(By.CSS_SELECTOR, "[role=status]").text
    check("would move" in summary and "would stay" in summary, "a bulk plan says who moves and who stays", summary)
    check("stays" in driver.find_element(By.TAG_NAME, "main").text, "and why a tenant stays")
    shoot(driver, "plan")
    sign_out(driver)

    # ---- A support engineer: no approve button anywhere, and a hand-made POST refused.
    sign_in(driver, support)
    for path in ["/console", "/console/access", f"/console/tenants/{tenant_b}"]:
        driver.get(BASE + path)
        buttons = [b.text for b in driver.find_elements(By.TAG_NAME, "button")]
        check("Approve" not in buttons, f"support sees no approve button on {path}", buttons)
    csrf = driver.find_element(By.CSS_SELECTOR, "form.signout [name=csrf]").get_attribute("value")
    page = driver.find_element(By.TAG_NAME, "html")
    driver.execute_script("""
        const form = document.createElement('form');
        form.method = 'post'; form.action = arguments[0];
        for (const [name, value] of [['csrf', arguments[1]], ['reason', 'self-approved']]) {
            const input = document.createElement('input'); input.type = 'hidden'; input.name = name; input.value = value;
            form.appendChild(input);
        }
        document.body.appendChild(form); form.submit();""", f"/console/access/{request_b}/approve", csrf)
    settle(driver, page)
    check("takes a compliance token" in alert_text(driver), "a support session's hand-made approval is refused",
          driver.page_source[:800])
    status, body = api("GET", f"/v1/access-requests/{request_b}", compliance)
    check(body["access_request"]["state"] == "pending", "the hand-made POST decided nothing", body)
    shoot(driver, "refused")
    sign_out(driver)

    # ---- A tenant's administrator sees its tenant only.
    sign_in(driver, tenant_admin)
    driver.get(BASE + "/console/access")
    text = driver.find_element(By.TAG_NAME, "main").text
    check(request_a2 in text and request_b not in text, "a tenant administrator's queue holds only its tenant's", text)
    driver.get(BASE + f"/console/tenants/{tenant_b}")
    check("no tenant" in alert_text(driver), "another tenant's page is not found for it", driver.page_source[:500])
    driver.get(BASE + f"/console/tenants/{tenant_a}")
    check(tenant_a in driver.page_source, "its own tenant's page opens")
    driver.get(BASE + "/console/tenants")
    check("token" in alert_text(driver), "the directory is refused to it", driver.page_source[:500])
    shoot(driver, "tenant-admin-access")
    sign_out(driver)

    # ---- An expired session goes back to sign-in (the second server idles sessions out after 1 s).
    short = token("compliance", "browser-short", data=SHORT_DATA)
    sign_in(driver, short, base=SHORT_BASE)
    time.sleep(2.2)
    driver.get(SHORT_BASE + "/console/access")
    check(driver.current_url.endswith("/console/sign-in"), "an expired session goes back to sign-in", driver.current_url)
finally:
    driver.quit()
check(not layout_problems, "every page fits a 390 px screen", "; ".join(layout_problems))
print("browser checks passed", flush=True)
