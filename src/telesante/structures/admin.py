from django.contrib import admin

from telesante.structures.models import Commune, Departement, Region, Structure, Team


class TeamInline(admin.TabularInline):
    model = Team
    extra = 1


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "structure"]
    search_fields = ["name", "structure__name"]
    list_select_related = ["structure"]
    autocomplete_fields = ["structure"]


@admin.register(Structure)
class StructureAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "finess", "commune", "deployment_status", "underserved"]
    list_filter = [
        "kind",
        "deployment_status",
        "departement",
        "rural",
        "underserved",
        "psc_self_enrolment",
    ]
    search_fields = ["name", "finess", "commune__name"]
    autocomplete_fields = ["commune"]
    list_select_related = ["commune"]
    inlines = [TeamInline]


@admin.register(Commune)
class CommuneAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "departement", "population", "current"]
    search_fields = ["code", "name"]
    list_filter = ["current", "departement__region"]
    list_select_related = ["departement"]


admin.site.register(Region)
admin.site.register(Departement)
