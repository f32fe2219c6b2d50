"""The one scoping function: every admin reads their own subtree and nothing else."""

import pytest
from django.http import Http404

from accounts.models import Role, RoleKind, User
from campaigns.models import Target
from orgs.models import Org
from orgs.scoping import (
    can_manage,
    can_run_campaigns,
    get_org_in_scope_or_404,
    in_scope,
    orgs_in_scope,
    restrict_to_scope,
    scope_roots,
)

pytestmark = pytest.mark.django_db


def names(qs) -> set[str]:
    return set(qs.values_list("name", flat=True))


def test_city_admin_reads_the_whole_tree(world):
    assert names(orgs_in_scope(world.city_admin)) == set(Org.objects.values_list("name", flat=True))


def test_town_admin_reads_the_town_and_its_unions_only(world):
    assert names(orgs_in_scope(world.town_admin)) == {
        "真州镇",
        "真州镇中心小学工会",
        "真州镇卫生院工会",
    }


def test_grassroots_admin_reads_their_union_only(world):
    assert names(orgs_in_scope(world.union_admin)) == {"真州镇中心小学工会"}


def test_user_without_role_reads_nothing(world):
    assert not orgs_in_scope(world.nobody).exists()
    with pytest.raises(Http404):
        get_org_in_scope_or_404(world.nobody, pk=world.town.pk)


def test_restrict_to_scope_filters_any_model_by_its_org(world):
    Target.objects.create(campaign=world.campaign, org=world.town, value=10, source="manual")
    Target.objects.create(campaign=world.campaign, org=world.park, value=20, source="manual")
    assert [t.value for t in restrict_to_scope(Target.objects.all(), world.town_admin)] == [10]
    assert [t.value for t in restrict_to_scope(Target.objects.all(), world.park_admin)] == [20]
    assert restrict_to_scope(Target.objects.all(), world.nobody).count() == 0


def test_a_prefix_of_a_code_or_path_does_not_leak_a_sibling(world):
    """真州镇's path is a prefix of its unions' paths, never of the park's."""
    assert not in_scope(world.town_admin, world.park)
    assert not in_scope(world.town_admin, world.park_union)
    assert in_scope(world.town_admin, world.town_union_b)


def test_two_roles_give_the_union_of_both_subtrees(world):
    Role.objects.create(user=world.town_admin, org=world.park, kind=RoleKind.UNIT_ADMIN)
    user = User.objects.get(pk=world.town_admin.pk)  # fresh: scope is cached per user object
    assert {o.name for o in scope_roots(user)} == {"真州镇", "枣林湾旅游度假区"}
    assert "枣林湾酒店工会" in names(orgs_in_scope(user))
    assert "教育局" not in names(orgs_in_scope(user))


def test_nested_roles_name_each_subtree_once(world):
    Role.objects.create(user=world.city_admin, org=world.town, kind=RoleKind.UNIT_ADMIN)
    user = User.objects.get(pk=world.city_admin.pk)
    assert [o.name for o in scope_roots(user)] == ["仪征市总工会"]


def test_viewer_reads_but_manages_nothing(world):
    assert in_scope(world.viewer, world.park_union)
    assert not can_manage(world.viewer, world.park_union)


def test_only_federation_admins_run_campaigns(world):
    assert can_run_campaigns(world.city_admin, world.city)
    assert not can_run_campaigns(world.town_admin, world.town)
    assert can_manage(world.town_admin, world.town_union_a)
    assert not can_manage(world.town_admin, world.city)


def test_superuser_reads_everything(world):
    root = User.objects.create_superuser(username="root", password="pw-pingyi-root")
    assert orgs_in_scope(root).count() == Org.objects.count()
    assert can_manage(root, world.park_union) and can_run_campaigns(root, world.city)
