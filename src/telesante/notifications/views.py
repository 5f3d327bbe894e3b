from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from telesante.core import paging
from telesante.notifications import services
from telesante.notifications.models import Notification


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    mine = Notification.objects.filter(user=request.user)  # newest first (Meta.ordering)
    return render(request, "notifications/list.html", {"page": paging.page(request, mine)})


@require_POST
@login_required
def mark_read(request: HttpRequest) -> HttpResponse:
    services.mark_read(request.user)
    return redirect("notifications")
