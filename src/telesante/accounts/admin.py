from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from telesante.accounts.models import ApiToken, Membership, User


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    # The team names its structure (Membership.save).
    fields = ["team", "role"]
    autocomplete_fields = ["team"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["last_name", "first_name"]
    list_display = [
        "email",
        "last_name",
        "first_name",
        "profession",
        "specialty",
        "rpps",
        "regional_role",
        "is_active",
    ]
    list_filter = ["profession", "specialty", "regional_role", "is_active"]
    search_fields = ["email", "last_name", "first_name", "rpps"]
    inlines = [MembershipInline]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (
            _("Identité professionnelle"),
            {"fields": ["first_name", "last_name", "rpps", "profession", "specialty", "phone"]},
        ),
        (_("Rôles"), {"fields": ["regional_role", "is_active", "is_staff", "is_superuser"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": [
                    "email",
                    "first_name",
                    "last_name",
                    "rpps",
                    "profession",
                    "specialty",
                    "password1",
                    "password2",
                ],
            },
        )
    ]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["prefix", "user", "name", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "created_at", "last_used_at"]
    search_fields = ["user__email", "prefix"]
    list_select_related = ["user"]
