"""What the judging scripts of the integration tests share: one line per behaviour checked
("ok - ..." or "FAIL: ..."), a count of failures for the exit status, and series names written
as the exposition writes them."""

failures = 0


def ok(msg):
    print(f"ok - {msg}")


def bad(msg):
    global failures
    failures += 1
    print(f"FAIL: {msg}")


def check(cond, good, wrong):
    if cond:
        ok(good)
    else:
        bad(wrong)
    return cond


def escape(v):
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def series(name, labels):
    inner = ",".join(f'{k}="{escape(v)}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}"
