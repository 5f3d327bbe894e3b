from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from telesante.accounts import staff_views
from telesante.api import api
from telesante.core import observability
from telesante.core import views as core_views
from telesante.deployment import views as deployment_views
from telesante.directory import views as directory_views
from telesante.documents import views as document_views
from telesante.fhir.api import fhir_api
from telesante.indicators import views as indicator_views
from telesante.notifications import views as notification_views
from telesante.patients import views as patient_views
from telesante.regulation import views as regulation_views
from telesante.rooms import views as room_views
from telesante.structures import views as structure_views
from telesante.teleconsultation import activity_views
from telesante.teleconsultation import views as tc_views
from telesante.teleexpertise import views as te_views
from telesante.telesurveillance import views as tsv_views

# The back office logs in through the same two-factor login as everyone else: the admin's own
# login form (password only) is never served.
admin.site.login = core_views.admin_login
handler500 = core_views.server_error
admin.site.site_header = _("Télésanté — administration régionale")
admin.site.site_title = "Télésanté"

urlpatterns = [
    path("", core_views.home, name="home"),
    path("liste-de-travail/", core_views.worklist_fragment, name="worklist"),
    path("healthz", observability.readiness, name="healthz"),
    path("healthz/live", observability.liveness, name="healthz-live"),
    path("healthz/ready", observability.readiness, name="healthz-ready"),
    path("metrics", observability.metrics, name="metrics"),
    path("accessibilite/", core_views.accessibility_statement, name="accessibility"),
    path("compte/activite/", activity_views.my_activity, name="my_activity"),
    path("compte/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", core_views.javascript_catalog, name="javascript_catalog"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("fhir/r4/", fhir_api.urls),
    path("patients/", patient_views.patient_list, name="patient_list"),
    path("patients/recherche/", patient_views.patient_search, name="patient_search"),
    path(
        "recherche/professionnels/<slug:set_name>/",
        core_views.search_professionals,
        name="search_professionals",
    ),
    path(
        "referentiel/lieux-de-naissance/",
        structure_views.search_birthplaces,
        name="search_birthplaces",
    ),
    path("patients/nouveau/", patient_views.patient_create, name="patient_create"),
    path("patients/<int:pk>/", patient_views.patient_detail, name="patient_detail"),
    path("patients/<int:pk>/statut/", patient_views.patient_status, name="patient_status"),
    path("patients/<int:pk>/ins/", patient_views.patient_insi, name="patient_insi"),
    path("patients/<int:pk>/consentement/", patient_views.patient_consent, name="patient_consent"),
    path(
        "patients/<int:pk>/opposition/",
        patient_views.patient_objections,
        name="patient_objections",
    ),
    path("regulation/", regulation_views.record_list, name="regulation_list"),
    path("regulation/nouveau/", regulation_views.record_create, name="regulation_create"),
    path("regulation/<int:pk>/", regulation_views.record_detail, name="regulation_detail"),
    path("regulation/<int:pk>/modifier/", regulation_views.record_update, name="regulation_update"),
    path(
        "regulation/<int:pk>/patient/", regulation_views.record_patient, name="regulation_patient"
    ),
    path("regulation/<int:pk>/lien/", regulation_views.send_link, name="regulation_send_link"),
    path(
        "regulation/<int:pk>/lien/<int:link_pk>/retirer/",
        regulation_views.revoke_link,
        name="regulation_revoke_link",
    ),
    path("regulation/<int:pk>/video/", regulation_views.video, name="regulation_video"),
    path(
        "regulation/<int:pk>/position/",
        regulation_views.position_fragment,
        name="regulation_position",
    ),
    path("regulation/<int:pk>/cliche/", regulation_views.snapshot, name="regulation_snapshot"),
    path("regulation/<int:pk>/fin/", regulation_views.end, name="regulation_end"),
    path("regulation/images/<int:pk>/", regulation_views.media_file, name="regulation_media"),
    path("v/<str:value>/", regulation_views.caller_open, name="regulation_caller_open"),
    path("appel/", regulation_views.caller_page, name="regulation_caller"),
    path("appel/jeton/", regulation_views.caller_token, name="regulation_caller_token"),
    path("appel/consentement/", regulation_views.caller_consent, name="regulation_caller_consent"),
    path("appel/position/", regulation_views.caller_position, name="regulation_caller_position"),
    path("appel/photo/", regulation_views.caller_photo, name="regulation_caller_photo"),
    path("structures/<int:pk>/", structure_views.structure_detail, name="structure_detail"),
    path("structures/<int:pk>/journal/", core_views.structure_audit, name="structure_audit"),
    path(
        "structures/<int:pk>/pro-sante-connect/",
        structure_views.psc_self_enrolment,
        name="structure_psc_self_enrolment",
    ),
    path("structures/<int:pk>/activite/", activity_views.staff_activity, name="staff_activity"),
    path(
        "structures/<int:pk>/professionnels/", staff_views.structure_staff, name="structure_staff"
    ),
    path(
        "structures/<int:pk>/professionnels/inviter/",
        staff_views.staff_invite,
        name="structure_staff_invite",
    ),
    path(
        "structures/<int:pk>/professionnels/<int:user_pk>/",
        staff_views.staff_member,
        name="structure_staff_member",
    ),
    path(
        "structures/<int:pk>/professionnels/<int:user_pk>/regulation/",
        staff_views.staff_regulation,
        name="structure_staff_regulation",
    ),
    path("structures/<int:pk>/equipes/", staff_views.team_create, name="structure_team_create"),
    path("teleexpertise/", te_views.boxes, name="teleexpertise_list"),
    path("teleexpertise/nouvelle/", te_views.create, name="teleexpertise_create"),
    path("teleexpertise/<int:pk>/", te_views.detail, name="teleexpertise_detail"),
    path("teleexpertise/<int:pk>/prendre/", te_views.claim, name="teleexpertise_claim"),
    path("teleexpertise/<int:pk>/message/", te_views.message, name="teleexpertise_message"),
    path("teleexpertise/<int:pk>/repondre/", te_views.answer, name="teleexpertise_answer"),
    path("teleexpertise/<int:pk>/decliner/", te_views.decline, name="teleexpertise_decline"),
    path("teleexpertise/<int:pk>/corriger/", te_views.correct, name="teleexpertise_correct"),
    path("teleexpertise/<int:pk>/retirer/", te_views.withdraw, name="teleexpertise_withdraw"),
    path("teleexpertise/<int:pk>/compte-rendu.pdf", te_views.report, name="teleexpertise_report"),
    path("telesurveillance/", tsv_views.board, name="telesurveillance_board"),
    path("telesurveillance/inscrire/", tsv_views.enrol, name="telesurveillance_enrol"),
    path("telesurveillance/suivis/<int:pk>/", tsv_views.patient, name="telesurveillance_patient"),
    path("telesurveillance/suivis/<int:pk>/fin/", tsv_views.end, name="telesurveillance_end"),
    path(
        "telesurveillance/suivis/<int:pk>/seuils/",
        tsv_views.threshold_edit,
        name="telesurveillance_thresholds",
    ),
    path(
        "telesurveillance/suivis/<int:pk>/seuils/programme/",
        tsv_views.threshold_reset,
        name="telesurveillance_thresholds_reset",
    ),
    path(
        "telesurveillance/suivis/<int:pk>/rapport.pdf",
        tsv_views.report,
        name="telesurveillance_report",
    ),
    path(
        "telesurveillance/alertes/<int:pk>/prise-en-compte/",
        tsv_views.acknowledge,
        name="telesurveillance_acknowledge",
    ),
    path(
        "telesurveillance/alertes/<int:pk>/resolution/",
        tsv_views.resolve,
        name="telesurveillance_resolve",
    ),
    path("teleconsultations/", tc_views.consultation_list, name="teleconsultation_list"),
    path("teleconsultations/nouvelle/", tc_views.create, name="teleconsultation_create"),
    path(
        "teleconsultations/disponibilites/",
        tc_views.availability,
        name="teleconsultation_availability",
    ),
    path("teleconsultations/agenda/<str:token>.ics", tc_views.feed, name="teleconsultation_feed"),
    path("teleconsultations/<int:pk>/", tc_views.detail, name="teleconsultation_detail"),
    path("teleconsultations/<int:pk>/annuler/", tc_views.cancel, name="teleconsultation_cancel"),
    path("teleconsultations/<int:pk>/deplacer/", tc_views.move, name="teleconsultation_move"),
    path(
        "teleconsultations/<int:pk>/compte-rendu/",
        tc_views.report_save,
        name="teleconsultation_report_save",
    ),
    path(
        "teleconsultations/<int:pk>/compte-rendu.pdf",
        tc_views.report,
        name="teleconsultation_report",
    ),
    path(
        "teleconsultations/<int:pk>/incident/", tc_views.incident, name="teleconsultation_incident"
    ),
    path(
        "teleconsultations/<int:pk>/non-realise/",
        tc_views.not_done,
        name="teleconsultation_not_done",
    ),
    path("teleconsultations/<int:pk>/invite/", tc_views.invite, name="teleconsultation_invite"),
    path(
        "teleconsultations/<int:pk>/invite/<int:guest_id>/retirer/",
        tc_views.revoke_guest,
        name="teleconsultation_revoke_guest",
    ),
    path(
        "teleconsultations/<int:pk>/invite/<int:guest_id>/envoyer/",
        tc_views.send_guest,
        name="teleconsultation_send_guest",
    ),
    path("teleconsultations/<int:pk>/assistance/", tc_views.assist, name="teleconsultation_assist"),
    path("salle/test/", room_views.connection_test, name="connection_test"),
    path("salle/invite/<str:value>/", room_views.guest_entry, name="room_guest"),
    path("salle/<str:slug>/", room_views.room, name="room"),
    path("salle/<str:slug>/jeton/", room_views.room_token, name="room_token"),
    path("salle/<str:slug>/document/", room_views.share, name="room_share"),
    path("documents/<int:pk>/", document_views.download, name="attachment"),
    path(
        "documents/<int:pk>/miniature/",
        document_views.download,
        {"thumbnail": True},
        name="attachment_thumbnail",
    ),
    path("indicateurs/", indicator_views.dashboard, name="indicators"),
    path("indicateurs/export.csv", indicator_views.export_csv, name="indicators_csv"),
    path("indicateurs/export.xlsx", indicator_views.export_xlsx, name="indicators_xlsx"),
    path("indicateurs/synthese.pdf", indicator_views.export_pdf, name="indicators_pdf"),
    path("indicateurs/facturation.csv", indicator_views.billing_csv, name="indicators_billing"),
    path("deploiement/", deployment_views.overview, name="deployment_overview"),
    path("deploiement/<int:pk>/", deployment_views.site, name="deployment_site"),
    path("deploiement/<int:pk>/jalon/", deployment_views.milestone, name="deployment_milestone"),
    path("deploiement/<int:pk>/suivi/", deployment_views.follow_up, name="deployment_follow_up"),
    path("deploiement/<int:pk>/etape/", deployment_views.stop, name="deployment_stop"),
    path("annuaire/", directory_views.directory, name="directory"),
    path("notifications/", notification_views.inbox, name="notifications"),
    path("notifications/lues/", notification_views.mark_read, name="notifications_read"),
]
