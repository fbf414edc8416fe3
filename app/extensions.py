"""Flask extensions, created unbound here and bound in ``create_app``."""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect


class Base(so.DeclarativeBase):
    # Stable constraint names, so Alembic migrations read the same on SQLite
    # and PostgreSQL and batch operations on SQLite can find them.
    metadata = sa.MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
