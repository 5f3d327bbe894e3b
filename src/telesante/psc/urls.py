# Included by allauth under /compte/ (allauth.urls builds the providers' routes).
from django.urls import path

from telesante.psc import views

urlpatterns = [
    path("psc/login/", views.login, name="psc_login"),
    path("psc/login/callback/", views.callback, name="psc_callback"),
]
