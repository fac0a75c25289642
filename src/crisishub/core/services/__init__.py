"""Every state change of the hub goes through a named function here.

Views, the JSON API and the replay all call these, so they share one set
of rules, one audit trail and one place where live updates are published.
Each function takes ``at`` (the time of the change) so the replay can run
them in simulated time; it defaults to now.
"""
