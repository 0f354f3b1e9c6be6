"""The Teambudget web app. The blueprint list below is the map of the app."""
import os
from pathlib import Path

from flask import Flask

from web import bounds, cli, config, database, errors, i18n, pwa, security
from web.extensions import compress, csrf
from web import rate_limits


def create_app(test_config=None):
    """Create the app; `test_config` overrides settings from the environment."""
    instance_path = Path(os.environ.get("INSTANCE_PATH", config.PROJECT_ROOT / "instance"))
    app = Flask(__name__, instance_path=str(instance_path),
                template_folder=str(config.PROJECT_ROOT / "templates"),
                static_folder=str(config.PROJECT_ROOT / "static"))
    app.config.from_mapping(config.from_environment(instance_path))
    app.config["COMPRESS_ALGORITHM"] = ["br", "gzip"]  # what every phone's browser reads
    if test_config:
        app.config.from_mapping(test_config)

    bounds.init_app(app)  # before any route is added: it bounds their <int:…> parts
    compress.init_app(app)  # first, so it runs after every other after_request hook has set its headers
    database.init_app(app)
    i18n.init_app(app)
    csrf.init_app(app)
    rate_limits.init_app(app)  # the limiter, and the client's address behind TRUSTED_PROXIES
    security.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    pwa.init_app(app)
    from web.live import etag_for
    app.add_template_global(etag_for)     # the ETag of a live region, the same in the page as in the header

    from web import account, admin, auth, outbox, requests, shell, teams

    app.register_blueprint(shell.bp)      # /, /toegankelijkheid, /taal
    app.register_blueprint(auth.bp)       # /inloggen, /uitloggen, /uitnodiging/<token>
    app.register_blueprint(account.bp)    # /mijn-passkeys
    app.register_blueprint(teams.bp)      # /teams/<team_id>
    app.register_blueprint(requests.bp)   # /teams/<team_id>/aanvragen
    from web import receipts
    app.register_blueprint(receipts.bp)   # /teams/<team_id>/aanvragen/<request_id>/bonnetjes, …/ontbrekende-bonnetjes
    app.register_blueprint(admin.bp)      # /beheer
    from web import card_admin, cards, handover
    app.register_blueprint(card_admin.bp)  # /beheer/kaarten
    app.register_blueprint(cards.bp)      # /teams/<team_id>/aanvragen/<request_id>/kaart
    app.register_blueprint(handover.bp)   # /kaart/<token>
    app.register_blueprint(pwa.bp)        # /sw.js, /manifest.webmanifest, /offline
    app.register_blueprint(outbox.bp)     # /uitbak
    from web import push
    push.init_app(app)                    # sends what each request committed; `send-reminders`
    app.register_blueprint(push.bp)       # /meldingen
    from web import foundation
    app.register_blueprint(foundation.bp)  # /beheer/gemeenten, /beheer/inrichting
    from web import grants, year_close
    app.register_blueprint(grants.bp)     # /teams/<team_id>/aanvragen/<request_id>/annuleren
    app.register_blueprint(year_close.bp)  # /beheer/jaarafsluiting
    from web import budget_years, exports
    app.register_blueprint(budget_years.bp)  # /beheer/budgetjaren
    app.register_blueprint(exports.bp)    # /beheer/budgetjaren/<budget_year_id>/journaal.csv, .xlsx
    from web import loans
    app.register_blueprint(loans.bp)      # /teams/<team_id>/aanvragen/<request_id>/lening
    from web import catalogue
    app.register_blueprint(catalogue.bp)  # /beheer/kostensoorten, /beheer/voorzieningen
    from web import bank; app.register_blueprint(bank.bp)  # /beheer/bank
    from web import reconciliation; app.register_blueprint(reconciliation.bp)  # /beheer/bank/controle, …/winkels
    from web import outcome_reviews; app.register_blueprint(outcome_reviews.bp)  # /teams/<team_id>/terugblik, …
    from web import avoided_costs; app.register_blueprint(avoided_costs.bp)  # /beheer/rendement, …/opbrengst
    from web import tips; app.register_blueprint(tips.bp)  # /teams/<team_id>/tips, …/huishouden
    from web import tip_admin, experts; app.register_blueprint(tip_admin.bp); app.register_blueprint(experts.bp)  # /beheer/tips; /experts, …/aanvragen/<request_id>/experts
    from web import reports; app.register_blueprint(reports.bp)  # /beheer/rapportage, /teams/<team_id>/deelname
    from web import year_report; app.register_blueprint(year_report.bp)  # /beheer/rapportage/jaarverslag.pdf
    from web import policy_signals; app.register_blueprint(policy_signals.bp)  # /beheer/signalen, …/was-opgelost-als
    return app
