from typing import Any

from allauth.account.internal.decorators import login_not_required
from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView
from django.http import Http404, HttpRequest, HttpResponse

from telesante.psc.provider import PSCOAuth2Adapter


class CallbackView(OAuth2CallbackView):
    def _get_state(self, request: HttpRequest, provider: Any) -> tuple:
        # allauth hands the stored state to the login only after complete_login: the adapter
        # needs its nonce before, to check the ID token.
        state, response = super()._get_state(request, provider)
        self.adapter.state = state or {}
        return state, response


def _psc_view(view_class: type, request: HttpRequest) -> HttpResponse:
    try:
        return view_class.adapter_view(PSCOAuth2Adapter(request))(request)
    except SocialApp.DoesNotExist:
        raise Http404("Pro Santé Connect n'est pas configuré.") from None


@login_not_required
def login(request: HttpRequest) -> HttpResponse:
    return _psc_view(OAuth2LoginView, request)


@login_not_required
def callback(request: HttpRequest) -> HttpResponse:
    return _psc_view(CallbackView, request)
