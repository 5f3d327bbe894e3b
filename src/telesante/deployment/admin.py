from django.contrib import admin

from telesante.deployment import services
from telesante.deployment.models import Milestone, SiteDeployment, Stop


class MilestoneInline(admin.TabularInline):
    model = Milestone
    extra = 0
    exclude = ["recorded_by"]


@admin.register(SiteDeployment)
class SiteDeploymentAdmin(admin.ModelAdmin):
    list_display = ["structure", "officer"]
    raw_id_fields = ["structure", "officer"]
    filter_horizontal = ["filieres"]
    inlines = [MilestoneInline]

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        services.refresh_status(form.instance)  # the status follows the milestones


@admin.register(Stop)
class StopAdmin(admin.ModelAdmin):
    list_display = ["unit", "place", "commune", "starts_at", "ends_at"]
    raw_id_fields = ["unit", "commune"]
