"""Flask extensions, created unbound and attached in create_app()."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mail import Mail
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_wtf import CSRFProtect

from qosyl.models.base import db

__all__ = ["csrf", "db", "limiter", "login_manager", "mail", "migrate", "socketio"]
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
mail = Mail()
socketio = SocketIO()
limiter = Limiter(key_func=get_remote_address)
